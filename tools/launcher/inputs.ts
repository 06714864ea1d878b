// The stack file and the roster, read and checked offline the way the program will see them,
// before npm start looks at anything else.
import { devPlaceholderKeys } from "./decisions";
import { formatProblem } from "../../core/problems";
import { StackConfig } from "../../core/stackConfig";
import { NoStackFile, StackRead, checkStack, readStack } from "../shared/load";
import { ENCRYPTED } from "../shared/stackFile";

/** A reason to stop, with the exit code; the message is printed as is. */
export class Stop extends Error {
  constructor(message: string, public readonly code = 1) {
    super(message);
  }
}

export interface Inputs {
  config?: StackConfig;
  activeTenants: string[];
  placeholders: string[];
  /** Each active tenant's port and the server it runs on (only this machine's are probed). */
  tenantPorts: { tenant: string; port: number; server: string }[];
  /** Every image an active tenant runs (the stack's, and any per-tenant canary override), with its server. */
  images: { image: string; server: string }[];
  stackFileHasSalt: boolean;
}

/** The stack file and the roster, read and checked offline, as the program will see them. */
export function readInputs(repo: string, stack: string, mustBeValid: boolean): Inputs {
  const short = stack.split("/").pop() ?? stack;
  let read: StackRead;
  try {
    read = readStack(stack, repo);
  } catch (err) {
    if (!(err instanceof NoStackFile)) throw err;
    throw new Stop(`npm start: no stack file ${err.path}.\n  fix: copy Pulumi.prod.yaml to Pulumi.${short}.yaml and fill it in (README, "Running it"), or use --stack dev`);
  }
  const text = read.text;
  const keysInFile = read.config.encrypted.filter((k) => k.startsWith("apiKeys.")).map((k) => k.slice("apiKeys.".length));
  const check = (withKeys: string[]) => {
    const keys = JSON.stringify(Object.fromEntries(withKeys.map((t) => [t, ENCRYPTED])));
    const checked = checkStack(read, { repo, override: withKeys.length > 0 ? { apiKeys: keys } : {} });
    // A roster folder that cannot be read: nothing else about the stack is worth saying yet.
    return checked.rosterProblems.length > 0 ? { problems: checked.rosterProblems, warnings: [], config: undefined, plan: undefined } : checked;
  };
  const first = check(keysInFile);
  const activeTenants = (first.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => t.name);
  const placeholders = devPlaceholderKeys(stack, activeTenants, keysInFile);
  const checked = placeholders.length > 0 ? check([...keysInFile, ...placeholders]) : first;
  if (mustBeValid && checked.problems.length > 0) {
    throw new Stop(`npm start: ${checked.problems.length} problem(s) in Pulumi.${short}.yaml or the roster; nothing was changed:\n` +
      checked.problems.map((p) => `  - ${formatProblem(p)}`).join("\n"));
  }
  return {
    config: checked.config,
    activeTenants,
    placeholders,
    tenantPorts: (checked.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => ({ tenant: t.name, port: t.port, server: t.server })),
    images: (checked.plan?.tenants ?? []).filter((t) => t.state === "active").map((t) => ({ image: t.image, server: t.server })),
    stackFileHasSalt: /^encryptionsalt:/m.test(text),
  };
}

