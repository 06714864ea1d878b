/** Labels the program puts on what it creates, and `npm run status` reads back. */
export const MANAGED_BY_LABEL = "managed-by";
export const MANAGED_BY_VALUE = "openclaw-hosting";
export const TENANT_LABEL = "openclaw.tenant";
export const TIER_LABEL = "openclaw.tier";
export const URL_LABEL = "openclaw.url";
/** The tenant's disk budget for its volumes (MB), on its container: status compares usage against it. */
export const DISK_BUDGET_LABEL = "openclaw.disk-budget-mb";
