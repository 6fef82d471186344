// dmn-js Viewer as a browser global (window.DmnJS), built with NODE_ENV=production: the upstream
// dist bundles ship Inferno's development build, which logs a console error on every page
// (https://github.com/bpmn-io/dmn-js/issues/965).
// DmnJS.translateModule() is the page's language for the viewer's own labels (View DRD, Hit
// policy, When/Then …), as the editor has them: process-diff.js passes it per view. The viewer
// prints a column's type as the file has it (string, boolean): DmnJS.translate words it.
import DmnJS from 'dmn-js/lib/Viewer';
import { makeTranslate, translateModule } from './translate';

const lang = () => document.documentElement.lang || 'zh-CN';
DmnJS.translateModule = () => translateModule(lang());
DmnJS.translate = (text) => makeTranslate(lang())(text);
window.DmnJS = DmnJS;
