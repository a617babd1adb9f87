/**
 * The "New GPU" dialog: provider, GPU (with price and stock), count, image, name.
 *
 * It stays open until the server has created the deployment; a refusal (an
 * unknown GPU, no capacity, a bad name) shows inside it as the server's one
 * sentence, and nothing was created.
 */
import { Widget } from '@lumino/widgets';

import { api, IDeployment, IGpuOffer, money, SindriApiError } from './api';

const OTHER = '__other__';

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    node.setAttribute(key, value);
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function field(label: string, control: HTMLElement, hint?: HTMLElement): HTMLElement {
  const row = element('label', { class: 'sj-Field' });
  row.appendChild(element('span', { class: 'sj-FieldLabel' }, label));
  row.appendChild(control);
  if (hint) {
    row.appendChild(hint);
  }
  return row;
}

export function offerLabel(offer: IGpuOffer): string {
  const memory = offer.memory_gb ? ` ${offer.memory_gb} GB` : '';
  const price = offer.price_per_hour === null ? 'no price' : money(offer.price_per_hour, '/h');
  const stock = offer.stock ? `, stock ${offer.stock.toLowerCase()}` : '';
  return `${offer.name}${memory} (${offer.id}): ${price}${stock}`;
}

export interface INewGpuOptions {
  providers: string[];
  provider: string;
  onCreated: (deployment: IDeployment) => void;
}

export class NewGpuDialog extends Widget {
  private provider = element('select', { name: 'provider' });
  private gpu = element('select', { name: 'gpu' });
  private gpuText = element('input', {
    name: 'gpu-text',
    type: 'text',
    placeholder: 'a GPU id or alias, e.g. A100'
  });
  private gpuHint = element('span', { class: 'sj-Hint' });
  private count = element('input', { name: 'count', type: 'number', min: '1', value: '1' });
  private image = element('input', {
    name: 'image',
    type: 'text',
    placeholder: "the provider's default image"
  });
  private name = element('input', {
    name: 'name',
    type: 'text',
    placeholder: 'generated when empty'
  });
  private error = element('div', { class: 'sj-DialogError', role: 'alert' });
  private create = element(
    'button',
    { class: 'jp-Dialog-button jp-mod-accept jp-mod-styled sj-Create', type: 'submit' },
    'Create'
  );
  private offers: IGpuOffer[] = [];
  private gpuLoad = 0;

  constructor(private options: INewGpuOptions) {
    super();
    this.addClass('jp-Dialog');
    this.addClass('sj-NewGpuDialog');
    this.id = 'sindri-new-gpu-dialog';
    const content = element('form', { class: 'jp-Dialog-content sj-DialogContent' });
    content.appendChild(element('div', { class: 'jp-Dialog-header' }, 'New GPU'));
    const body = element('div', { class: 'jp-Dialog-body sj-DialogBody' });
    for (const provider of options.providers) {
      this.provider.appendChild(element('option', { value: provider }, provider));
    }
    this.provider.value = options.provider;
    this.gpuText.hidden = true;
    body.appendChild(field('Provider', this.provider));
    body.appendChild(field('GPU', this.gpu, this.gpuHint));
    body.appendChild(this.gpuText);
    body.appendChild(field('Count', this.count));
    body.appendChild(field('Image', this.image));
    body.appendChild(field('Name', this.name));
    body.appendChild(this.error);
    content.appendChild(body);
    const footer = element('div', { class: 'jp-Dialog-footer' });
    const cancel = element(
      'button',
      { class: 'jp-Dialog-button jp-mod-reject jp-mod-styled', type: 'button' },
      'Cancel'
    );
    cancel.addEventListener('click', () => this.dispose());
    footer.appendChild(cancel);
    footer.appendChild(this.create);
    content.appendChild(footer);
    this.node.appendChild(content);

    content.addEventListener('submit', event => {
      event.preventDefault();
      void this.submit();
    });
    this.node.addEventListener('keydown', event => {
      if (event.key === 'Escape') {
        this.dispose();
      }
    });
    this.provider.addEventListener('change', () => void this.loadGpus());
    this.gpu.addEventListener('change', () => this.showChoice());
  }

  open(): void {
    Widget.attach(this, document.body);
    this.provider.focus();
    void this.loadGpus();
  }

  private async loadGpus(): Promise<void> {
    const load = ++this.gpuLoad;
    this.gpu.replaceChildren(element('option', { value: '' }, 'Loading the catalog…'));
    this.gpu.disabled = true;
    this.error.textContent = '';
    try {
      const { gpus } = await api.gpus(this.provider.value);
      if (load !== this.gpuLoad) {
        return;
      }
      this.offers = gpus;
      this.gpu.replaceChildren(
        ...gpus.map(offer => element('option', { value: offer.id }, offerLabel(offer))),
        element('option', { value: OTHER }, 'Other: type an id or alias…')
      );
    } catch (error) {
      if (load !== this.gpuLoad) {
        return;
      }
      this.offers = [];
      this.gpu.replaceChildren(element('option', { value: OTHER }, 'Type an id or alias…'));
      this.error.textContent = (error as Error).message;
    }
    this.gpu.disabled = false;
    this.showChoice();
  }

  private showChoice(): void {
    const other = this.gpu.value === OTHER;
    this.gpuText.hidden = !other;
    const offer = this.offers.find(o => o.id === this.gpu.value);
    this.count.max = offer?.max_count ? String(offer.max_count) : '16';
    this.gpuHint.textContent = offer
      ? `${money(offer.price_per_hour, '/h')} per GPU` +
        (offer.stock ? `; stock ${offer.stock.toLowerCase()}` : '')
      : '';
    if (other) {
      this.gpuText.focus();
    }
  }

  private async submit(): Promise<void> {
    const gpu = this.gpu.value === OTHER ? this.gpuText.value.trim() : this.gpu.value;
    if (!gpu) {
      this.error.textContent = 'Choose a GPU, or type its id or alias.';
      return;
    }
    this.error.textContent = '';
    this.create.disabled = true;
    this.create.textContent = 'Creating…';
    try {
      const deployment = await api.deploy({
        provider: this.provider.value,
        gpu,
        count: Number(this.count.value) || 1,
        image: this.image.value.trim() || undefined,
        name: this.name.value.trim() || undefined
      });
      this.options.onCreated(deployment);
      this.dispose();
    } catch (error) {
      this.error.textContent =
        error instanceof SindriApiError ? error.message : String(error);
      this.create.disabled = false;
      this.create.textContent = 'Create';
    }
  }
}
