/*
 * process-exec-props.js: the "解纷执行属性" section next to the bpmn-js properties panel.
 *
 * The Camunda properties panel (jiefen-modeler bundle) edits form fields (camunda:formData),
 * documentation, timers, conditions, multi-instance cardinality/completion, called elements and
 * names. This section edits what only jiefen executes, in the spiffworkflow namespace:
 * instructions (spiffworkflow:instructionsForEndUser), the decision of a business rule task
 * (spiffworkflow:calledDecisionId), the operation of a service task
 * (spiffworkflow:serviceTaskOperator) and multi-instance collections (loopDataInputRef /
 * loopDataOutputRef, which bpmn-js drops as unresolved references: they are kept here and put
 * back into the XML by restoreRefs()). It also shows each user task's role (its lane).
 *
 *   const props = JiefenExecProps.create(modeler, bodyElement, {operations: [...],
 *                                         decisions: () => [...ids]});
 *   props.captureRefs(importWarnings);   // after modeler.importXML
 *   xml = props.restoreRefs(xml);        // after modeler.saveXML
 */
(function () {
  'use strict';

  var SPIFF = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
  var BPMN = 'http://www.omg.org/spec/BPMN/20100524/MODEL';
  var TIMER_HELP = '时长：PT2H、P15D、working_days(2)、statutory_days(15)、statutory_months(1)，' +
    '或变量名（如 response_deadline）；不要写 ${…}';
  var CONDITION_HELP = '条件为受限表达式，如 amount > 1000、category == "labour"；不要写 ${…}';
  var LANE_HELP = '泳道名即办理角色：受理员、分流研判员、调解员、承办人、督办员、领导、平台' +
    '（也可用英文名或角色代码，如 mediator）';

  var el = window.JiefenDom.el;  // shared builder (dom.js)

  function localName(type) {
    return String(type || '').split(':').pop();
  }

  function create(modeler, body, options) {
    var moddle = modeler.get('moddle');
    var modeling = modeler.get('modeling');
    var registry = modeler.get('elementRegistry');
    var refs = {};  // element id -> {input, output}: multi-instance collections by name
    var current = null;

    function extensions(bo, name) {
      var ext = bo.extensionElements;
      return ext && ext.values ? ext.values.filter(function (v) {
        return localName(v.$type) === name;
      }) : [];
    }

    function setExtension(element, name, value) {
      var bo = element.businessObject;
      var kept = bo.extensionElements && bo.extensionElements.values ?
        bo.extensionElements.values.filter(function (v) { return localName(v.$type) !== name; }) : [];
      if (value) {
        kept.push(value);
      }
      var ext = kept.length ? moddle.create('bpmn:ExtensionElements', {values: kept}) : undefined;
      modeling.updateProperties(element, {extensionElements: ext});
    }

    function any(name, props) {
      return moddle.createAny('spiffworkflow:' + name, SPIFF, props || {});
    }

    function field(label, input, help) {
      var id = 'jf-x-' + Math.random().toString(36).slice(2, 8);
      input.id = id;
      var wrap = el('div', {className: 'mb-2'}, [el('label', {className: 'form-label mb-0', 'for': id, text: label}), input]);
      if (help) {
        wrap.appendChild(el('div', {className: 'form-text', text: help}));
      }
      return wrap;
    }

    function textInput(value, onChange, attrs) {
      var input = el('input', Object.assign({className: 'form-control form-control-sm'}, attrs || {}));
      input.value = value || '';
      input.addEventListener('change', function () { onChange(input.value.trim()); });
      return input;
    }

    function laneOf(bo) {
      var lanes = registry.filter(function (e) { return e.type === 'bpmn:Lane'; });
      for (var i = 0; i < lanes.length; i++) {
        var refsList = lanes[i].businessObject.flowNodeRef || [];
        if (refsList.indexOf(bo) !== -1) {
          return lanes[i].businessObject.name || lanes[i].businessObject.id;
        }
      }
      return null;
    }

    function userTask(element, out) {
      var bo = element.businessObject;
      var lane = laneOf(bo);
      out.appendChild(el('p', {className: lane ? 'mb-2' : 'mb-2 text-danger', 'data-testid': 'exec-lane',
        text: lane ? '办理角色（泳道）：' + lane : '不在任何泳道：没有角色可以办理此任务'}));
      var found = extensions(bo, 'instructionsForEndUser')[0];
      var area = el('textarea', {className: 'form-control form-control-sm', rows: '3', 'data-testid': 'exec-instructions'});
      area.value = found ? (found.$body || '') : '';
      area.addEventListener('change', function () {
        var text = area.value.trim();
        setExtension(element, 'instructionsForEndUser', text ? any('instructionsForEndUser', {$body: text}) : null);
      });
      out.appendChild(field('办理指引（Markdown，可用 {{ case_no }} 等）', area));
      out.appendChild(el('p', {className: 'form-text', text: '表单字段在下方“表单”（Forms）中编辑：类型 string、long、boolean、date、enum、textarea。'}));
    }

    function businessRule(element, out) {
      var bo = element.businessObject;
      var found = extensions(bo, 'calledDecisionId')[0];
      var listId = 'jf-decisions-list';
      var input = textInput(found ? found.$body : '', function (value) {
        setExtension(element, 'calledDecisionId', value ? any('calledDecisionId', {$body: value}) : null);
      }, {list: listId, 'data-testid': 'exec-decision'});
      var list = el('datalist', {id: listId});
      (options.decisions ? options.decisions() : []).forEach(function (id) {
        list.appendChild(el('option', {value: id}));
      });
      out.appendChild(field('决策表（decision id）', input));
      out.appendChild(list);
    }

    function serviceTask(element, out) {
      var bo = element.businessObject;
      var found = extensions(bo, 'serviceTaskOperator')[0];
      var select = el('select', {className: 'form-select form-select-sm', 'data-testid': 'exec-operation'});
      select.appendChild(el('option', {value: '', text: '（请选择）'}));
      (options.operations || []).forEach(function (name) {
        var option = el('option', {value: name, text: name});
        if (found && found.id === name) {
          option.selected = true;
        }
        select.appendChild(option);
      });
      var result = textInput(found ? found.resultVariable : '', function () { save(); });
      function save() {
        if (!select.value) {
          setExtension(element, 'serviceTaskOperator', null);
          return;
        }
        var children = found && found.$children ? found.$children : [any('parameters')];
        var props = {id: select.value, $children: children};
        if (result.value.trim()) {
          props.resultVariable = result.value.trim();
        }
        setExtension(element, 'serviceTaskOperator', any('serviceTaskOperator', props));
      }
      select.addEventListener('change', save);
      out.appendChild(field('服务操作（已注册的操作名）', select));
      out.appendChild(field('结果变量', result));
    }

    function callActivity(element, out) {
      var bo = element.businessObject;
      out.appendChild(field('被调用流程（process id）', textInput(bo.calledElement, function (value) {
        modeling.updateProperties(element, {calledElement: value || undefined});
      }, {'data-testid': 'exec-called'})));
    }

    function multiInstance(element, out) {
      var bo = element.businessObject;
      var loop = bo.loopCharacteristics;
      var id = bo.id;
      var entry = refs[id] || (refs[id] = {input: '', output: ''});
      out.appendChild(field('多实例集合（loopDataInputRef，数据名）', textInput(entry.input, function (value) {
        entry.input = value;
      }, {'data-testid': 'exec-mi-input'}), '每个元素启动一个实例，如 co_departments'));
      out.appendChild(field('元素变量（inputDataItem）', textInput(loop.inputDataItem ? loop.inputDataItem.name : '', function (value) {
        var item = value ? moddle.create('bpmn:DataInput', {id: id + '_item', name: value}) : undefined;
        modeling.updateModdleProperties(element, loop, {inputDataItem: item});
      })));
      out.appendChild(field('结果集合（loopDataOutputRef）', textInput(entry.output, function (value) {
        entry.output = value;
      })));
    }

    function render(element) {
      current = element;
      body.textContent = '';
      if (!element) {
        body.appendChild(el('p', {className: 'text-body-secondary mb-0', text: '选择一个元素'}));
        return;
      }
      var bo = element.businessObject;
      var type = localName(bo.$type);
      body.appendChild(el('p', {className: 'mb-2'}, [el('code', {text: bo.id}), document.createTextNode(' ' + type)]));
      if (type === 'UserTask') { userTask(element, body); }
      if (type === 'BusinessRuleTask') { businessRule(element, body); }
      if (type === 'ServiceTask') { serviceTask(element, body); }
      if (type === 'CallActivity') { callActivity(element, body); }
      if (type === 'Lane') { body.appendChild(el('p', {className: 'form-text', text: LANE_HELP})); }
      if (type === 'SequenceFlow') { body.appendChild(el('p', {className: 'form-text', text: CONDITION_HELP})); }
      var defs = bo.eventDefinitions || [];
      if (defs.some(function (d) { return localName(d.$type) === 'TimerEventDefinition'; })) {
        body.appendChild(el('p', {className: 'form-text', 'data-testid': 'exec-timer-help', text: TIMER_HELP}));
      }
      if (bo.loopCharacteristics && localName(bo.loopCharacteristics.$type) === 'MultiInstanceLoopCharacteristics') {
        multiInstance(element, body);
      }
    }

    modeler.on('selection.changed', function (event) {
      render(event.newSelection.length === 1 ? event.newSelection[0] : null);
    });
    modeler.on('import.done', function () { render(null); });

    // bpmn-js drops loopDataInputRef/loopDataOutputRef naming task data (unresolved references).
    function captureRefs(warnings) {
      refs = {};
      (warnings || []).forEach(function (w) {
        var prop = w.property || '';
        if (!/loopData(Input|Output)Ref$/.test(prop) || !w.element) {
          return;
        }
        var owner = w.element.$parent && w.element.$parent.id || w.element.id;
        var entry = refs[owner] || (refs[owner] = {input: '', output: ''});
        entry[/Input/.test(prop) ? 'input' : 'output'] = w.value;
      });
    }

    function restoreRefs(xml) {
      var ids = Object.keys(refs).filter(function (id) { return refs[id].input || refs[id].output; });
      if (!ids.length) {
        return xml;
      }
      var doc = new DOMParser().parseFromString(xml, 'application/xml');
      ids.forEach(function (id) {
        var owner = Array.prototype.find.call(doc.getElementsByTagNameNS(BPMN, '*'), function (n) {
          return n.getAttribute('id') === id;
        });
        var loop = owner && owner.getElementsByTagNameNS(BPMN, 'multiInstanceLoopCharacteristics')[0];
        if (!loop) {
          return;
        }
        var prefix = loop.prefix ? loop.prefix + ':' : '';
        Array.prototype.slice.call(loop.children).forEach(function (c) {
          if (/^loopData(Input|Output)Ref$/.test(c.localName)) {
            loop.removeChild(c);
          }
        });
        // schema order: loopCardinality?, loopDataInputRef?, loopDataOutputRef?, inputDataItem?, ...
        var anchor = Array.prototype.find.call(loop.children, function (c) {
          return c.localName !== 'loopCardinality';
        }) || null;
        [['loopDataInputRef', refs[id].input], ['loopDataOutputRef', refs[id].output]].forEach(function (pair) {
          if (pair[1]) {
            var node = doc.createElementNS(BPMN, prefix + pair[0]);
            node.textContent = pair[1];
            loop.insertBefore(node, anchor);
          }
        });
      });
      return new XMLSerializer().serializeToString(doc);
    }

    return {
      captureRefs: captureRefs,
      restoreRefs: restoreRefs,
      refresh: function () { render(current); },
      refs: function () { return refs; }
    };
  }

  window.JiefenExecProps = {create: create};
})();
