/**
 * Every bound on the inputs, in one place (the README's "Limits" lists them with the reasons).
 * They keep `npm run check` and the program fast on any input, and each is far above what a real
 * roster needs, so only a mistake or an attack reaches one.
 */
export const LIMITS = {
  /** A tenant file holds a handful of settings (a full one is under 1 KB). */
  tenantFileBytes: 8 * 1024,
  /** YAML elements (lexer tokens) in a tenant file: a full one has about 600; the lexer stops here. */
  tenantFileTokens: 2048,
  /** YAML elements in the stack file (about 10 per tenant's encrypted key). */
  stackFileTokens: 100_000,
  /** The stack file holds every tenant's encrypted API key (about 250 bytes each at 1,000 tenants). */
  stackFileBytes: 1024 * 1024,
  /** Any one config value as Pulumi hands it to the program (objects JSON-encoded). */
  configValueBytes: 1024 * 1024,
  /** Tenants per stack: 1,000 fits one server; the check's time is measured at this size. */
  tenants: 1000,
  /** Entries in the roster folder besides ignored ones: the tenant bound plus room for mistakes to report. */
  rosterEntries: 2000,
  /** Variables in one tenant's `env`. */
  envKeys: 64,
  envNameChars: 128,
  /** One env value, in UTF-8 bytes: settings, not data. */
  envValueBytes: 4096,
  /**
   * The kernel's limit on one `NAME=value` string handed to a process (MAX_ARG_STRLEN, 32 pages):
   * a container whose environment holds a longer one fails to start.
   */
  kernelEnvStringBytes: 131072,
  /** An API key (providers' keys are about 100 characters). */
  apiKeyChars: 1024,
  /** File-system paths in config (Linux PATH_MAX is 4096; ours are short). */
  pathChars: 1024,
  /** rosterDir, relative to the project. */
  rosterDirChars: 255,
  /** A URL in config (the ACME CA). */
  urlChars: 2048,
  /** Servers in one stack (each is a Docker provider and an edge command). */
  servers: 100,
  /** Entries in deleteData. */
  deleteData: 1000,
} as const;
