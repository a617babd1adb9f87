/**
 * The server extension's REST API (`<base_url>/sindri-jupyter/api/`).
 *
 * `ServerConnection.makeRequest` adds Jupyter's token and XSRF header, so the
 * calls work wherever JupyterLab itself is logged in.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export interface IDeployment {
  ref: string;
  provider: string;
  id: string;
  name: string;
  state: 'pending' | 'running' | 'ready' | 'stopped' | 'failed' | 'gone';
  gpu: string;
  cost_per_hour: number;
  spent: number | null;
  uptime_seconds: number | null;
  detail: string | null;
  image: string | null;
}

export interface IStatus {
  deployments: IDeployment[];
  burn_rate: number;
  error: string | null;
  changing: boolean;
  min_refresh_seconds: number;
}

export interface IProviders {
  providers: string[];
  configured: string[];
  default_provider: string;
  sandbox: boolean;
  error: string | null;
}

export interface IGpuOffer {
  id: string;
  name: string;
  memory_gb: number | null;
  price_per_hour: number | null;
  stock: string | null;
  max_count: number | null;
  count_options: number[] | null;
}

export interface IConnectionLine {
  label: string;
  value: string;
}

export interface IActionResult {
  message: string;
  deployment: IDeployment | null;
}

export interface IDeployRequest {
  provider: string;
  gpu: string;
  count: number;
  image?: string;
  name?: string;
}

/** An error the server explained in one sentence. */
export class SindriApiError extends Error {
  constructor(
    message: string,
    readonly kind: string,
    readonly status: number
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'sindri-jupyter/api', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new SindriApiError(
      'The Jupyter server cannot be reached; check that it is still running.',
      'NetworkError',
      0
    );
  }
  const text = await response.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message =
      body?.error?.message ??
      body?.message ??
      `The Sindri server extension answered ${response.status}.`;
    throw new SindriApiError(message, body?.error?.type ?? 'HttpError', response.status);
  }
  return body as T;
}

const ref = (reference: string) => encodeURIComponent(reference);

export const api = {
  status: () => call<IStatus>('deployments'),
  providers: () => call<IProviders>('providers'),
  gpus: (provider: string) =>
    call<{ provider: string; gpus: IGpuOffer[] }>(
      `gpus?provider=${encodeURIComponent(provider)}`
    ),
  deploy: (request: IDeployRequest) =>
    call<IDeployment>('deployments', {
      method: 'POST',
      body: JSON.stringify(request)
    }),
  stop: (reference: string) =>
    call<IActionResult>(`deployments/${ref(reference)}/stop`, { method: 'POST' }),
  start: (reference: string) =>
    call<IActionResult>(`deployments/${ref(reference)}/start`, { method: 'POST' }),
  destroy: (reference: string) =>
    call<IActionResult>(`deployments/${ref(reference)}`, { method: 'DELETE' }),
  destroyPreview: (reference: string) =>
    call<{ label: string; warning: string | null }>(
      `deployments/${ref(reference)}/destroy-preview`
    ),
  connection: (reference: string) =>
    call<{ deployment: IDeployment; lines: IConnectionLine[] }>(
      `deployments/${ref(reference)}/connection`
    )
};

export function money(value: number | null | undefined, suffix = ''): string {
  if (value === null || value === undefined) {
    return '-';
  }
  return `$${value.toFixed(2)}${suffix}`;
}
