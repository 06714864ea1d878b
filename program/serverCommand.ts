import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export type ServerConnection = command.types.input.remote.ConnectionArgs;

export interface ServerCommandArgs {
  create: string;
  /** Runs when the resource is removed (the text recorded at create time). */
  delete?: string;
  stdin?: pulumi.Input<string>;
  /** Runs instead of create when the command's inputs change (without it, create runs again). */
  update?: string;
  /** A change of any of these replaces the resource, so create runs again (e.g. a tenant's image). */
  triggers?: pulumi.Input<unknown>[];
}

/**
 * A shell command on the server: run here when Docker and Caddy are local, over SSH otherwise.
 * Both paths run the same script text through bash.
 */
export function serverCommand(
  name: string,
  args: ServerCommandArgs,
  connection: ServerConnection | undefined,
  opts: pulumi.CustomResourceOptions,
): command.local.Command | command.remote.Command {
  return connection === undefined
    ? new command.local.Command(name, { ...args, interpreter: ["/bin/bash", "-c"] }, opts)
    : new command.remote.Command(name, { ...args, connection }, opts);
}
