/**
 * The Sindri sidebar for JupyterLab: a panel in the left area listing every
 * deployment of every configured provider, backed by the `sindri_jupyter._server`
 * server extension.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { SindriPanel } from './panel';

const PLUGIN_ID = 'sindri-jupyter:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A sidebar that shows and manages every Sindri GPU deployment.',
  autoStart: true,
  optional: [ILayoutRestorer, ISettingRegistry, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    settings: ISettingRegistry | null,
    palette: ICommandPalette | null
  ) => {
    const panel = new SindriPanel();
    app.shell.add(panel, 'left', { rank: 950 });
    restorer?.add(panel, 'sindri-jupyter');

    const command = 'sindri-jupyter:open';
    app.commands.addCommand(command, {
      label: 'Show the Sindri GPUs sidebar',
      execute: () => app.shell.activateById(panel.id)
    });
    palette?.addItem({ command, category: 'Sindri' });

    if (settings) {
      void settings.load(PLUGIN_ID).then(loaded => {
        const apply = () => {
          panel.refreshSeconds = loaded.get('refreshInterval').composite as number;
          panel.defaultProvider = loaded.get('defaultProvider').composite as string;
        };
        apply();
        loaded.changed.connect(apply);
      });
    }
  }
};

export default plugin;
