/**
 * The files one SQLite database is made of on disk: the database itself ('') and the companions SQLite
 * keeps beside it (write-ahead log, its shared-memory index, a rollback journal). Whatever moves,
 * removes or checks a database does so for all of them.
 */
export const DATABASE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'] as const;
