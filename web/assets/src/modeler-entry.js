// Browser bundle for the process modeler: bpmn-js Modeler + properties panel (Camunda 7
// provider, which edits camunda:formData) + camunda moddle and behaviors, as one IIFE.
// Built by copy_vendor.py with esbuild into web/static/vendor/jiefen-modeler/modeler.bundle.js.
// Why a bundle: the properties panel's UMD build would ship a second diagram-js/preact next
// to bpmn-modeler.production.min.js, and camunda-bpmn-js-behaviors has no browser build.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import { translateModule } from './translate';

/** The page's language (the <html lang> the server rendered). */
function pageLang() {
  return document.documentElement.lang || 'zh-CN';
}

/** Create a Modeler wired with the properties panel; `canvas`/`properties` are elements or selectors. */
function createModeler({ canvas, properties, keyboard, lang } = {}) {
  return new BpmnModeler({
    container: canvas,
    keyboard: keyboard ? { bindTo: keyboard } : undefined,
    propertiesPanel: properties ? { parent: properties } : undefined,
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
      translateModule(lang || pageLang()),
    ],
    moddleExtensions: { camunda: camundaModdle },
  });
}

// dmn-js takes the same module, per view: new DmnJS({decisionTable: {additionalModules: [...]}, ...})
window.JiefenModeler = {
  Modeler: BpmnModeler, createModeler, camundaModdle,
  translateModule: (lang) => translateModule(lang || pageLang()),
};
