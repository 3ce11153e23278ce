import { isLoopbackName } from '../auth/binding.js';
import { tokensInUse } from '../auth/tokens.js';
import { ConfigError, type Workspace } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { ConfigLoader } from '../templates/loader.js';

// The proxy's entry points (server.ts runs it; names.ts makes and reads its URLs), and what it
// reads of templates: the order services are declared in, which decides a cell's main service.

export {
  cellPublicUrl,
  mainService,
  type ProxyAddress,
  parseProxyHost,
  serviceLabel,
  servicePublicUrl,
} from './names.js';
export { type BeforeForward, type HiveProxy, type ProxyOptions, startProxy } from './server.js';

/** A template's service names in declaration order, from the workspace's current config. */
export function declaredServicesFrom(configs: ConfigLoader, workspaces: () => Workspace[]) {
  return async (workspaceId: string, templateId: string): Promise<string[] | undefined> => {
    const workspace = workspaces().find((w) => w.id === workspaceId);
    if (!workspace) return undefined;
    const loaded = await configs.load(workspace.path);
    if (!loaded.ok) return undefined;
    const template = loaded.templates.find((t) => t.id === templateId);
    return template ? Object.keys(template.services) : undefined;
  };
}

/**
 * Throws a ConfigError (hive exits with 2) when the proxy must not listen on `host`: as the API,
 * beyond loopback only once API tokens exist, since a cell's services would be open to the network.
 */
export async function refuseUnsafeProxyBinding(db: Db, host: string): Promise<void> {
  if (isLoopbackName(host) || (await tokensInUse(db))) return;
  throw new ConfigError(
    [
      `Refusing to start the cells' proxy on ${host}: that interface is reachable from other machines and no API token exists, so anyone who reaches it could use every cell's services.`,
      'Create a token first: hive tokens create --name admin --role admin',
      'or keep the proxy on this machine: HIVE_PROXY_HOST=127.0.0.1 (the default), or HIVE_PROXY_PORT=off',
    ].join('\n'),
  );
}
