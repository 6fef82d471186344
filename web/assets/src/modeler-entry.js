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

/** Create a Modeler wired with the properties panel; `canvas`/`properties` are elements or selectors. */
function createModeler({ canvas, properties, keyboard } = {}) {
  return new BpmnModeler({
    container: canvas,
    keyboard: keyboard ? { bindTo: keyboard } : undefined,
    propertiesPanel: properties ? { parent: properties } : undefined,
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
    ],
    moddleExtensions: { camunda: camundaModdle },
  });
}

window.JiefenModeler = { Modeler: BpmnModeler, createModeler, camundaModdle };
