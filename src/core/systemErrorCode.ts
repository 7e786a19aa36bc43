/**
 * The strerror texts of the codes this tool words, for errors that lost their code: Node 24's
 * fs.rmSync reports some system errors as `code: ""` (UV_UNKNOWN) with only the text, e.g.
 * ", Unknown error: Read-only file system '/data/x'": a delete on a read-only disk was then "a bug".
 */
const CODE_OF_TEXT: [string, string][] = [
  ['Read-only file system', 'EROFS'],
  ['Operation not permitted', 'EPERM'],
  ['Permission denied', 'EACCES'],
  ['No space left on device', 'ENOSPC'],
  ['Disk quota exceeded', 'EDQUOT'],
  ['Input/output error', 'EIO'],
  ['File too large', 'EFBIG'],
  ['Is a directory', 'EISDIR'],
  ['Not a directory', 'ENOTDIR'],
  ['File name too long', 'ENAMETOOLONG'],
];

/** The system error code of `error` (ENOENT, EROFS, …), from its text when Node left it out; undefined for other errors. */
export function systemErrorCode(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  if (code !== '' || typeof message !== 'string') return undefined;
  return CODE_OF_TEXT.find(([text]) => message.includes(text))?.[1];
}
