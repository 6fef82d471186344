// The bpmn-js / dmn-js `translate` service in the page's language. The libraries pass every
// label of the palette, context pad, replace menu, properties panel and decision table through
// `translate(template, replacements)`; on a Chinese page the template is looked up in
// zh-CN.json (English templates stay as they are on an English page, and for any template the
// dictionary does not hold yet).
import zhCN from './zh-CN.json';

const DICTIONARIES = { zh: zhCN };

function dictionaryFor(lang) {
  const code = (lang || '').toLowerCase();
  return DICTIONARIES[code.split(/[-_]/)[0]] || null;
}

export function makeTranslate(lang) {
  const dictionary = dictionaryFor(lang);
  return function translate(template, replacements) {
    let text = (dictionary && dictionary[template]) || template;
    const values = replacements || {};
    return text.replace(/{([^}]+)}/g, (whole, key) => (key in values ? values[key] : whole));
  };
}

/** A didi module overriding the default `translate` service (bpmn-js and dmn-js alike). */
export function translateModule(lang) {
  return { translate: ['value', makeTranslate(lang)] };
}
