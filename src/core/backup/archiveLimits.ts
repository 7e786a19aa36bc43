/**
 * How many entries a backup archive may have. A backup holds the manifest, the profile file, the env
 * file, two entries per database (its image or pages, and its page index) and one per file of `files:`,
 * so the profile limits below keep every backup far under it. Beyond it an archive is refused before
 * its entries are read: reading a ZIP's directory costs about 90 µs and 850 bytes per entry here (a
 * crafted archive of 600,000 empty entries took 53 s and 517 MB before it was refused).
 */
export const MAX_ARCHIVE_ENTRIES = 100_000;

/** The most databases a profile may list (two archive entries each). */
export const MAX_PROFILE_DATABASES = 1_000;

/** The most files a profile's `files:` may list (an archive entry each). */
export const MAX_PROFILE_FILES = 20_000;

/** The longest chain `backups.max_chain` may ask for: an incremental's manifest names at most this many ancestors. */
export const MAX_CHAIN = 1_000;
