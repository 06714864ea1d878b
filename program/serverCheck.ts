import { DockerTarget, UsageError, parseDockerHost } from "../core/dockerHost";
import { Problem } from "../core/problems";
import { serverCheckSettings, unansweredServerProblems } from "../core/serverCheck";
import { engineTarget } from "../core/servers";
import { ServerPlan } from "../core/plan";
import { askServersAnswer } from "./reach";

/**
 * Asks every server's Docker engine, the way the Docker provider will reach it, before any resource
 * is registered: problems for the servers that do not answer (see core/serverCheck.ts).
 */
export async function serversNotAnswering(servers: readonly ServerPlan[], env: NodeJS.ProcessEnv = process.env): Promise<Problem[]> {
  const { settings, problems } = serverCheckSettings(env);
  if (settings === undefined) return problems;
  if (settings.OPENCLAW_SERVER_CHECK === "off") return [];
  let local: DockerTarget;
  try {
    local = parseDockerHost(env.DOCKER_HOST, env.DOCKER_TLS_VERIFY);
  } catch (err) {
    if (!(err instanceof UsageError) || servers.every((s) => s.ssh !== undefined)) throw err;
    return [{ field: "(environment) DOCKER_HOST", message: err.message }];
  }
  const answers = await askServersAnswer(servers.map((s) => ({ name: s.name, target: engineTarget(s, local) })), settings.OPENCLAW_SERVER_CHECK_TIMEOUT * 1000);
  return unansweredServerProblems(answers, servers, settings.OPENCLAW_SERVER_CHECK_TIMEOUT, servers.length > 1);
}
