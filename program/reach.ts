/** Whether each server's Docker engine answers, all servers at once, each bounded by the timeout. */
import { DockerTarget } from "../core/dockerHost";
import { ServerAnswer } from "../core/serverCheck";
import { message, pool, withTimeout } from "./bounded";
import { dockerClient } from "./dockerClient";

/** More servers than this are asked in waves: each ssh:// probe is an ssh process. */
const AT_ONCE = 16;

export async function askServersAnswer(servers: readonly { name: string; target: DockerTarget }[], timeoutMs: number): Promise<ServerAnswer[]> {
  return pool(servers, AT_ONCE, async ({ name, target }) => {
    const t0 = Date.now();
    const { docker, close, failure } = dockerClient(target, timeoutMs);
    try {
      await withTimeout(`ping ${name}`, timeoutMs, docker.ping());
      return { server: name, engine: target.display, answered: true, ms: Date.now() - t0 };
    } catch (err) {
      return { server: name, engine: target.display, answered: false, reason: (await failure()) ?? message(err), ms: Date.now() - t0 };
    } finally {
      close();
    }
  });
}
