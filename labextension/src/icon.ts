import { LabIcon } from '@jupyterlab/ui-components';

// An anvil under a spark: Sindri was the smith of the gods.
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 9h13c0 2.2 1.8 4 4 4v1h-5.2l-1 2H16v3H6v-3h2.2l-1-2H5.5C4 14 3 12.6 3 11z"/>
    <path d="M17 2l1 3 3 1-3 1-1 3-1-3-3-1 3-1z"/>
  </g>
</svg>`;

export const sindriIcon = new LabIcon({ name: 'sindri-jupyter:icon', svgstr: svg });
