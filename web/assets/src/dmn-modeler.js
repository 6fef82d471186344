// dmn-js Modeler as a browser global (window.DmnJS), built with NODE_ENV=production: the upstream
// dist bundles ship Inferno's development build, which logs a console error on every page
// (https://github.com/bpmn-io/dmn-js/issues/965).
import DmnJS from 'dmn-js/lib/Modeler';

window.DmnJS = DmnJS;
