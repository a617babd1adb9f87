/**
 * The sidebar: burn rate, every deployment of every provider, and its controls.
 *
 * It refreshes itself: every `refreshSeconds` while everything is settled, faster
 * while something starts or stops, never sooner than the server allows (the
 * server stretches that to fit each provider's request budget). It pauses while
 * hidden and refreshes as soon as it is shown again.
 */
import { Clipboard, Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { api, IConnectionLine, IDeployment, IStatus, money } from './api';
import { NewGpuDialog } from './dialog';
import { sindriIcon } from './icon';

const CHANGING_SECONDS = 2;

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function button(label: string, className: string, onClick: () => void): HTMLButtonElement {
  const node = element('button', `jp-mod-styled sj-Button ${className}`, label);
  node.type = 'button';
  node.addEventListener('click', onClick);
  return node;
}

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    Clipboard.copyToSystem(text);
  }
}

export class SindriPanel extends Widget {
  /** seconds between refreshes once every deployment is settled (a setting) */
  refreshSeconds = 15;
  /** the provider the New GPU dialog starts with (a setting) */
  defaultProvider = 'runpod';

  private burn = element('span', 'sj-BurnRate', 'Burn rate: -');
  private notice = element('div', 'sj-Notice');
  private mode = element('div', 'sj-Mode');
  private list = element('div', 'sj-List');
  private status: IStatus | null = null;
  private providers: string[] = [];
  private timer: number | undefined;
  private refreshing: Promise<void> | null = null;
  private connections = new Map<string, IConnectionLine[]>();
  private messages = new Map<string, string>();
  private busy = new Set<string>();

  constructor() {
    super();
    this.id = 'sindri-jupyter-panel';
    this.addClass('sj-Panel');
    this.title.icon = sindriIcon;
    this.title.caption = 'Sindri GPUs';
    const header = element('div', 'sj-Header');
    header.appendChild(element('span', 'sj-Title', 'Sindri GPUs'));
    header.appendChild(this.burn);
    const tools = element('div', 'sj-Tools');
    tools.appendChild(button('New GPU', 'jp-mod-accept sj-NewGpu', () => void this.newGpu()));
    tools.appendChild(button('Refresh', 'sj-Refresh', () => void this.refresh()));
    this.node.append(header, this.mode, tools, this.notice, this.list);
  }

  /** Read the status now, then schedule the next read. */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.read().finally(() => {
        this.refreshing = null;
        this.schedule();
      });
    }
    return this.refreshing;
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  protected onAfterAttach(): void {
    if (this.isVisible) {
      void this.refresh();
    }
  }

  protected onBeforeDetach(): void {
    window.clearTimeout(this.timer);
  }

  dispose(): void {
    window.clearTimeout(this.timer);
    super.dispose();
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    if (this.isDisposed || !this.isVisible) {
      return; // shown again -> onAfterShow refreshes
    }
    const wanted = this.status?.changing ? CHANGING_SECONDS : this.refreshSeconds;
    const seconds = Math.max(wanted, this.status?.min_refresh_seconds ?? 0);
    // Shown for people and tests alike: how long until the next refresh.
    this.node.dataset.refreshSeconds = seconds.toFixed(1);
    this.timer = window.setTimeout(() => void this.refresh(), seconds * 1000);
  }

  private async read(): Promise<void> {
    if (!this.providers.length) {
      await this.loadProviders();
    }
    try {
      this.status = await api.status();
      this.notice.textContent = this.status.error ?? '';
    } catch (error) {
      this.notice.textContent = (error as Error).message;
    }
    this.render();
  }

  private render(): void {
    const status = this.status;
    if (!status) {
      return;
    }
    this.burn.textContent = `Burn rate: ${money(status.burn_rate, '/h')}`;
    const rows = status.deployments.map(d => this.row(d));
    if (!rows.length) {
      rows.push(element('div', 'sj-Empty', 'No deployments. "New GPU" creates one.'));
    }
    this.list.replaceChildren(...rows);
  }

  private row(deployment: IDeployment): HTMLElement {
    const ref = deployment.ref;
    const live = deployment.state === 'running' || deployment.state === 'ready';
    if (!live) {
      this.connections.delete(ref);
    }
    const row = element('div', 'sj-Deployment');
    row.dataset.ref = ref;
    row.dataset.name = deployment.name;
    row.dataset.state = deployment.state;
    const top = element('div', 'sj-Line');
    top.appendChild(element('span', 'sj-Name', deployment.name));
    top.appendChild(element('span', 'sj-Provider', deployment.provider));
    top.appendChild(element('span', `sj-State sj-State-${deployment.state}`, deployment.state));
    const facts = element('div', 'sj-Line sj-Facts');
    facts.appendChild(element('span', 'sj-Gpu', deployment.gpu));
    facts.appendChild(element('span', 'sj-Rate', money(deployment.cost_per_hour, '/h')));
    facts.appendChild(element('span', 'sj-Spent', `${money(deployment.spent)} so far`));
    row.append(top, facts);
    if (deployment.detail) {
      row.appendChild(element('div', 'sj-Detail', deployment.detail));
    }
    if (deployment.state !== 'gone') {
      row.appendChild(this.actions(deployment, live));
    }
    const message = this.messages.get(ref);
    if (message) {
      row.appendChild(element('div', 'sj-Message', message));
    }
    const lines = this.connections.get(ref);
    if (lines) {
      row.appendChild(this.connectionView(lines));
    }
    return row;
  }

  private actions(deployment: IDeployment, live: boolean): HTMLElement {
    const ref = deployment.ref;
    const bar = element('div', 'sj-Actions');
    const connect = button('Connect', 'sj-Connect', () => void this.connect(ref));
    connect.disabled = !live;
    const stopped = deployment.state === 'stopped' || deployment.state === 'failed';
    const toggle = stopped
      ? button('Start', 'sj-Start', () => void this.act(ref, 'start'))
      : button('Stop', 'sj-Stop', () => void this.act(ref, 'stop'));
    const destroy = button('Destroy', 'jp-mod-warn sj-Destroy', () =>
      void this.destroy(ref, deployment.name)
    );
    for (const node of [connect, toggle, destroy]) {
      node.disabled = node.disabled || this.busy.has(ref);
    }
    bar.append(connect, toggle, destroy);
    return bar;
  }

  private connectionView(lines: IConnectionLine[]): HTMLElement {
    const view = element('div', 'sj-Connection');
    for (const line of lines) {
      const item = element('div', 'sj-ConnectionLine');
      item.dataset.label = line.label;
      item.appendChild(element('span', 'sj-ConnectionLabel', line.label));
      item.appendChild(element('code', 'sj-ConnectionValue', line.value));
      if (line.label !== 'Note') {
        const copy = button('Copy', 'sj-Copy', () => {
          void copyText(line.value).then(() => {
            copy.textContent = 'Copied';
          });
        });
        item.appendChild(copy);
      }
      view.appendChild(item);
    }
    return view;
  }

  private async run(ref: string, work: () => Promise<string | null>): Promise<void> {
    this.busy.add(ref);
    this.render();
    try {
      const said = await work();
      if (said) {
        this.messages.set(ref, said);
      }
    } catch (error) {
      this.messages.set(ref, (error as Error).message);
    } finally {
      this.busy.delete(ref);
    }
    await this.refresh();
  }

  private connect(ref: string): Promise<void> {
    if (this.connections.has(ref)) {
      this.connections.delete(ref); // a second click folds the details away
      this.render();
      return Promise.resolve();
    }
    return this.run(ref, async () => {
      const { lines } = await api.connection(ref);
      this.connections.set(ref, lines);
      this.messages.delete(ref);
      return null;
    });
  }

  private act(ref: string, action: 'stop' | 'start'): Promise<void> {
    return this.run(ref, async () => (await api[action](ref)).message);
  }

  private async destroy(ref: string, name: string): Promise<void> {
    let warning: string | null = null;
    let label = name;
    try {
      ({ label, warning } = await api.destroyPreview(ref));
    } catch (error) {
      warning = null; // the destroy itself will say what is wrong
    }
    const answer = await showDialog({
      title: `Destroy ${label}?`,
      body: `${warning ?? 'The deployment is deleted.'} This cannot be undone.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Destroy' })]
    });
    if (!answer.button.accept) {
      return;
    }
    await this.run(ref, async () => {
      const result = await api.destroy(ref);
      this.connections.delete(ref);
      return result.message;
    });
  }

  private async loadProviders(): Promise<boolean> {
    try {
      const found = await api.providers();
      this.providers = found.configured.length ? found.configured : found.providers;
      this.mode.textContent = found.sandbox
        ? 'Sandbox: the built-in emulators; nothing here costs money.'
        : '';
      if (found.error) {
        this.notice.textContent = found.error;
      }
      return true;
    } catch (error) {
      this.notice.textContent = (error as Error).message;
      return false;
    }
  }

  private async newGpu(): Promise<void> {
    if (!this.providers.length && !(await this.loadProviders())) {
      return;
    }
    const provider = this.providers.includes(this.defaultProvider)
      ? this.defaultProvider
      : this.providers[0];
    const dialog = new NewGpuDialog({
      providers: this.providers,
      provider,
      onCreated: deployment => {
        this.messages.set(
          deployment.ref,
          `Created ${deployment.provider}:${deployment.name}; it shows as ready once reachable.`
        );
        void this.refresh();
      }
    });
    dialog.open();
  }
}
