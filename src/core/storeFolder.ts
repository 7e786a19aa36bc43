/** The folder of a workspace that holds this tool's own files (profiles, state, config, journals, backups). */
export const STORE_FOLDER = '.envprofiles';
