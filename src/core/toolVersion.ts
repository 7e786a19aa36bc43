declare const ENVPROFILES_VERSION: string | undefined;

/** The version of Environment Profiles (package.json's, put in by the build), recorded in manifests and shown by the CLI. */
export const TOOL_VERSION = typeof ENVPROFILES_VERSION === 'string' ? ENVPROFILES_VERSION : '0.0.0-dev';
