"""The one place where error codes become words (Flask-Babel; Chinese msgids, English in en/).

Services and the engine refuse with codes and parameters (``FieldError``, ``ErrorCode``,
``FieldCode``); pages, the JSON API and the CLI all take their sentences from ``MESSAGES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from web.labels import label
from workflows.core.errors import DomainError, ErrorCode, FieldCode, FieldError, InvalidInput

MESSAGES = {
    FieldCode.REQUIRED: _l("必填"),
    FieldCode.UNKNOWN_FIELD: _l("未知字段"),
    FieldCode.UNSUPPORTED_TYPE: _l("不支持的字段类型 %(type)s"),
    FieldCode.NOT_TEXT: _l("应为文本"),
    FieldCode.BAD_CHARACTERS: _l("含有无效字符"),
    FieldCode.INVISIBLE: _l("不能只由空白或不可见字符组成"),
    FieldCode.TOO_DEEP: _l("嵌套不能超过 %(limit)s 层"),
    FieldCode.TOO_LONG: _l("最多 %(limit)s 个字符"),
    FieldCode.TOO_SHORT: _l("至少 %(limit)s 个字符"),
    FieldCode.BAD_FORMAT: _l("格式不正确"),
    FieldCode.NOT_INTEGER: _l("应为整数"),
    FieldCode.TOO_SMALL: _l("不能小于 %(limit)s"),
    FieldCode.TOO_LARGE: _l("不能大于 %(limit)s"),
    FieldCode.NOT_BOOLEAN: _l("应为是或否"),
    FieldCode.NOT_DATE: _l("日期格式应为 YYYY-MM-DD"),
    FieldCode.TOO_EARLY: _l("不能早于 %(limit)s"),
    FieldCode.TOO_LATE: _l("不能晚于 %(limit)s"),
    FieldCode.NOT_AN_OPTION: _l("请选择列表中的一项"),
    FieldCode.PHONE_CHARACTERS: _l("手机号只能包含数字、空格、+、- 和括号"),
    FieldCode.PHONE_NOT_MOBILE: _l("手机号应为 11 位中国大陆手机号码（1 开头，第二位 3-9）"),
    FieldCode.ID_NUMBER_FORMAT: _l("身份证号应为 18 位：17 位数字加 1 位校验码（数字或 X）"),
    FieldCode.ID_NUMBER_BIRTH_DATE: _l("身份证号中的出生日期无效"),
    FieldCode.ID_NUMBER_CHECK_DIGIT: _l("身份证号校验码错误（GB 11643），请核对号码"),
    # anything
    ErrorCode.NOT_LIST: _l("应为列表"),
    ErrorCode.NOT_FOUND: _l("未找到"),
    ErrorCode.NOT_PERMITTED: _l("无权执行此操作"),
    ErrorCode.PERSONAL_DATA_IN_TEXT: _l(
        "含有%(kind)s：文字中不能填写身份证号、电话、银行卡号或电子邮箱，请登记在当事人信息中"),
    # cases and tasks
    ErrorCode.CASE_NOT_FOUND: _l("案件 %(case_no)s 不存在"),
    ErrorCode.SUBMISSION_NOT_FOUND: _l("案件 %(case_no)s 没有这次来件"),
    ErrorCode.CASE_WITHOUT_PROCESS: _l("案件 %(case_no)s 不存在或没有流程实例"),
    ErrorCode.TASK_NOT_FOUND: _l("任务不存在"),
    ErrorCode.PARTY_NOT_IN_CASE: _l("此案件没有该当事人"),
    ErrorCode.CHOOSE_PURPOSE: _l("请选择查看目的"),
    ErrorCode.CHOOSE_EXPORT_PURPOSE: _l("请选择导出目的"),
    ErrorCode.CASE_ARCHIVED: _l("该案件已归档，不能再次打开"),
    ErrorCode.PROCESS_NOT_IN_VERSION: _l("流程 %(process)s 不在此版本中"),
    ErrorCode.CHOOSE_RATING: _l("请选择满意、基本满意或不满意"),
    ErrorCode.MEDIATOR_REQUIRED: _l("请填写调解员的用户名或用户编号（须为调解员）"),
    ErrorCode.MEDIATOR_OUT_OF_SCOPE: _l("%(name)s（%(unit)s）不在本案可指派的范围内：请选择本单位、本案承办单位或本案所在地调解组织的调解员"),
    ErrorCode.CHOOSE_CANDIDATE: _l("请填写候选案件编号之一"),
    ErrorCode.ORIGINAL_CASE_CLOSED: _l("原案件已结案：观察期内选“二次投诉”，否则选“新案件”"),
    ErrorCode.ORIGINAL_CASE_NOT_OBSERVED: _l("原案件不在结案观察期内"),
    ErrorCode.TICK_SIGNATURES: _l("请勾选已签署的各方：三项均已完成才能选择“已全部签署”"),
    # intake and the API
    ErrorCode.APPLICANT_REQUIRED: _l("至少登记一名申请人"),
    ErrorCode.PARTY_REQUIRED: _l("至少登记一名当事人"),
    ErrorCode.BODY_NOT_JSON: _l("请求体应为 JSON（Content-Type: application/json）"),
    ErrorCode.LOCATION_ONE_OF: _l("地点请填写网格或楼栋编码，或填写地址，不要同时填写"),
    ErrorCode.PLACE_UNKNOWN: _l("没有编码为 %(code)s 的在用网格或楼栋"),
    ErrorCode.PLACE_NOT_CASE_LEVEL: _l("%(code)s 不是网格或楼栋：案件须定位到网格或楼栋"),
    ErrorCode.ADDRESS_CANDIDATES: _l("地址与标准地址不完全一致，请从候选地址中确认一个，或选择“都不是”"),
    ErrorCode.NOT_NUMBER: _l("应为数字"),
    ErrorCode.AMOUNT_DECIMALS: _l("金额最多保留两位小数（元、角、分）"),
    ErrorCode.PHONE_FORMAT: _l("电话应为 11 位手机号，或带区号的固定电话（如 010-62345678，分机写在后面：-123）"),
    ErrorCode.CREDIT_CODE_FORMAT: _l("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）"),
    ErrorCode.CREDIT_CODE_CHECK_DIGIT: _l("统一社会信用代码校验码错误（GB 32100），请核对代码"),
    ErrorCode.PERSON_ONLY: _l("单位当事人不填此项"),
    ErrorCode.ORGANISATION_ONLY: _l("个人当事人不填统一社会信用代码"),
    ErrorCode.AGE_OR_BIRTH_DATE: _l("年龄和出生日期填写其中一项即可"),
    ErrorCode.BIRTH_DATE_IN_FUTURE: _l("出生日期不能晚于今天"),
    ErrorCode.TOO_MANY_PARTIES: _l("一次最多登记 %(limit)s 名当事人"),
    ErrorCode.RECEIVED_YEAR: _l("来件时间的年份应在 %(low)s 至 %(high)s 年之间"),
    ErrorCode.RECEIVED_IN_FUTURE: _l("来件时间不能晚于当前时间（允许误差 %(minutes)s 分钟）"),
    ErrorCode.RECEIVED_LATE_REASON: _l("来件时间早于 %(days)s 天前，请填写逾期登记的原因"),
    ErrorCode.BODY_NOT_OBJECT: _l("请求体应为 JSON 对象"),
    ErrorCode.NOT_OBJECT: _l("应为对象"),
    ErrorCode.NOT_TRUE_FALSE: _l("应为 true 或 false"),
    ErrorCode.NOT_ISO_TIME: _l("应为 ISO 8601 时间"),
    ErrorCode.TIME_WITHOUT_ZONE: _l("须带时区，例如 2025-07-04T08:40:00+08:00"),
    ErrorCode.BAD_IDEMPOTENCY_KEY: _l("应为 1-%(limit)s 个可见字符"),
    ErrorCode.UNKNOWN_CHANNEL: _l("未知渠道 %(channel)s"),
    ErrorCode.BAD_ORDER_NO: _l("工单号应为 1-%(limit)s 个可见字符"),
    ErrorCode.ORDER_NOT_QUARANTINED: _l("工单 %(order_no)s 已不在待补录列表中"),
    ErrorCode.BAD_ENDPOINT: _l("应为 https 地址（本机测试可用 http://127.0.0.1）"),
    ErrorCode.CHOOSE_EVENT_KINDS: _l("请至少选择一类事件"),
    ErrorCode.BAD_CURSOR: _l("游标应为上次返回的 next 值"),
    ErrorCode.TOKEN_DAYS: _l("有效期应为 %(min)s 至 %(max)s 天之间的整数"),
    # accounts
    ErrorCode.PASSWORD_TOO_SHORT: _l("密码至少 %(limit)s 位"),
    ErrorCode.PASSWORD_TOO_SIMPLE: _l("密码须同时包含字母和数字或符号"),
    ErrorCode.WRONG_PASSWORD: _l("原密码不正确"),
    ErrorCode.TOO_MANY_ATTEMPTS: _l("尝试次数过多，请稍后再试"),
    ErrorCode.WRONG_SECOND_FACTOR: _l("动态验证码或恢复码不正确"),
    ErrorCode.PETITION_FINAL: _l("不予受理：该信访人的同一事项已在案件 %(case_no)s 复核终结，"
                                 "以同一事实和理由再次提出的不再受理（信访工作条例第36条）"),
    ErrorCode.DATE_BEFORE_FLOOR: _l("日期不能早于 %(floor)s，请检查年份"),
    ErrorCode.DATE_IN_FUTURE: _l("记录已发生的事，日期不能晚于 %(latest)s"),
    ErrorCode.DATE_TOO_FAR: _l("日期不能晚于 %(latest)s，请检查年份"),
    ErrorCode.UNKNOWN_DEPARTMENT: _l("没有编码为 %(code)s 的部门"),
    ErrorCode.UNKNOWN_ROLE: _l("未知角色 %(roles)s"),
    ErrorCode.ADMIN_NOT_AUDITOR: _l("管理员与审计员不能由同一账号担任"),
    ErrorCode.BAD_USERNAME: _l("用户名不合法"),
    ErrorCode.USER_EXISTS: _l("用户 %(username)s 已存在"),
    ErrorCode.USER_NOT_FOUND: _l("没有可用的用户 %(username)s"),
    # directory imports
    ErrorCode.IMPORT_FILE_TYPE: _l("文件应为 CSV 或 XLSX（.csv、.xlsx）"),
    ErrorCode.IMPORT_FILE_UNREADABLE: _l("无法读取文件：不是有效的 CSV（UTF-8 或 GB18030 编码）或 XLSX 文件"),
    ErrorCode.IMPORT_NO_ROWS: _l("文件中没有数据行"),
    ErrorCode.IMPORT_TOO_MANY_ROWS: _l("一次最多导入 %(limit)s 行"),
    ErrorCode.MISSING_COLUMN: _l("缺少列“%(column)s”"),
    ErrorCode.UNKNOWN_COLUMN: _l("无法识别的列“%(column)s”"),
    ErrorCode.DUPLICATE_COLUMN: _l("列“%(column)s”出现了两次"),
    ErrorCode.DUPLICATE_IN_FILE: _l("%(value)s 与第 %(row)s 行重复"),
    ErrorCode.BAD_CODE: _l("编码只能由字母、数字和 - _ . 组成"),
    ErrorCode.UNKNOWN_LEVEL: _l("层级应为 市、区、街道、乡镇、社区、村、网格、楼栋 之一"),
    ErrorCode.PARENT_REQUIRED: _l("除市、区以外的地点须填写上级编码"),
    ErrorCode.UNKNOWN_PARENT: _l("没有编码为 %(code)s 的上级地点"),
    ErrorCode.PLACE_CYCLE: _l("上级关系构成循环：%(codes)s"),
    ErrorCode.LEVEL_NOT_BELOW_PARENT: _l("层级须低于上级地点 %(code)s 的层级"),
    ErrorCode.LEVEL_NOT_ABOVE_CHILD: _l("层级须高于下级地点 %(code)s 的层级"),
    ErrorCode.ADDRESS_ONLY_BUILDING: _l("只有楼栋（标准地址）可以填写地址"),
    ErrorCode.UNKNOWN_PLACE: _l("没有编码为 %(code)s 的地点"),
    ErrorCode.UNKNOWN_UNIT: _l("没有编码为 %(code)s 的单位"),
    ErrorCode.CHOOSE_UNIT: _l("请选择单位"),
    ErrorCode.UNIT_REQUIRED: _l("除流程管理员、审计员和系统管理员外，用户须属于一个单位：请填写单位编码"),
    ErrorCode.UNKNOWN_KIND: _l("类型 %(kind)s 不是路由表使用的类型，不会有案件派给该单位"),
    ErrorCode.ROOM_NOT_FOUND: _l("没有编码为 %(code)s 的调解室"),
    ErrorCode.ROOM_REQUIRED: _l("现场调解请选择调解室"),
    ErrorCode.ROOM_NOT_OF_UNIT: _l("%(room)s 不属于本单位"),
    ErrorCode.ROOM_TAKEN: _l("%(room)s 在 %(start)s—%(end)s 已被预约（案件 %(case_no)s），请换时间或调解室"),
    ErrorCode.ROOM_TAKEN_MEANWHILE: _l("调解室 %(room)s 刚被他人预约，请重新选择"),
    ErrorCode.MEETING_LINK_REQUIRED: _l("线上调解请填写会议链接"),
    ErrorCode.MEETING_LINK_FORMAT: _l("会议链接应以 https:// 开头，且不含空格"),
    ErrorCode.TIME_FORMAT: _l("请按“时:分”填写，例如 09:30"),
    ErrorCode.QUARTER_HOURS: _l("请选择整刻钟（00、15、30、45 分）"),
    ErrorCode.END_BEFORE_START: _l("结束时间应晚于开始时间"),
    ErrorCode.SESSION_TOO_LONG: _l("一场调解不超过 %(hours)s 小时"),
    ErrorCode.SESSION_IN_PAST: _l("不能预约已经过去的时间"),
    ErrorCode.SESSION_NOT_FOUND: _l("没有这场调解"),
    ErrorCode.SESSION_NOT_BOOKED: _l("这场调解已不是预约状态，不能再改动"),
    ErrorCode.CO_MEDIATOR_IS_MEDIATOR: _l("这位调解员已是本案的调解员，请另选一位协助调解员"),
    ErrorCode.SESSION_NOT_STARTED: _l("这场调解 %(start)s 才开始，开始后才能登记到场情况"),
    ErrorCode.CANCEL_REASON_REQUIRED: _l("请填写取消原因"),
    ErrorCode.CAPACITY_RANGE: _l("容纳人数应在 %(min)s 到 %(max)s 之间"),
    ErrorCode.EXPERT_NOT_FOUND: _l("没有这位专家"),
    ErrorCode.EXPERT_FIELD: _l("请选择专业领域"),
    ErrorCode.WEEKDAYS: _l("可约日期请填 1—7（周一至周日），以逗号分隔"),
    ErrorCode.EXPERT_NOT_AVAILABLE: _l("该专家在%(day)s不可约"),
    ErrorCode.CONFLICT_NOT_CONFIRMED: _l("存在利害关系，请确认已告知当事人并征得同意后再邀请"),
    ErrorCode.ALREADY_INVITED: _l("该专家已受邀参加这场调解"),
    ErrorCode.OPINION_REQUIRED: _l("请填写书面意见"),
    ErrorCode.OPINION_SUBMITTED: _l("书面意见已经提交，不能再修改"),
    ErrorCode.INVITATION_NOT_FOUND: _l("没有这份专家邀请"),
    # the admin's directory pages
    ErrorCode.ROLE_REQUIRED: _l("请至少选择一个角色"),
    ErrorCode.DISPLAY_NAME_REQUIRED: _l("请填写姓名"),
    ErrorCode.UNIT_EXISTS: _l("单位编码 %(code)s 已被使用"),
    ErrorCode.UNIT_NOT_FOUND: _l("没有编码为 %(unit)s 的单位"),
    ErrorCode.OWN_ACCOUNT: _l("不能停用自己的账号，也不能取消自己的系统管理员角色"),
    ErrorCode.CHOOSE_IMPORT_KIND: _l("请选择导入的内容：地点、单位或账号"),
    ErrorCode.CHOOSE_IMPORT_FILE: _l("请选择 CSV 或 XLSX 文件"),
    ErrorCode.IMPORT_EXPIRED: _l("预览已过期，请重新上传文件"),
    # processes
    ErrorCode.NO_TOP_PROCESS: _l("文件中没有可执行的顶层流程 %(process_id)s"),
    ErrorCode.CHOOSE_FILES: _l("请选择 .bpmn 或 .dmn 文件"),
    ErrorCode.FILES_BODY: _l("请求应为 JSON：{\"files\": {文件名: XML}}"),
    ErrorCode.DRY_RUN_BODY: _l("示例数据应为 JSON 对象，操作应为列表"),
    ErrorCode.BAD_FILE_NAME: _l("文件名只能是不含路径的 .bpmn 或 .dmn 名称"),
    ErrorCode.FILE_TOO_LARGE: _l("文件超过 %(limit)s"),
    ErrorCode.NOT_UTF8: _l("文件不是 UTF-8 文本"),
    ErrorCode.DRAFT_EMPTY: _l("草稿至少需要一个文件"),
    ErrorCode.FILES_TOO_LARGE: _l("文件合计超过 %(limit)s"),
    ErrorCode.DRAFT_NOT_FOUND: _l("草稿 %(draft_id)s 不存在"),
    ErrorCode.VERSION_NOT_FOUND: _l("流程 %(process_id)s 没有版本 %(version)s"),
    ErrorCode.VERSION_ID_NOT_FOUND: _l("流程版本 %(version_id)s 不存在"),
    ErrorCode.VERSION_NOT_PENDING: _l("版本状态为 %(status)s，无需审批"),
    ErrorCode.VERSION_RETIRED: _l("该版本已停用"),
    ErrorCode.RETIRE_REASON_REQUIRED: _l("请说明停用理由"),
    ErrorCode.LAST_ENTRY_VERSION: _l("这是受理入口流程（案件类型指向它）唯一生效的版本，停用后新案件将无法登记：请先部署并启用新版本，或把案件类型改到其他流程"),
    ErrorCode.PROCESS_NOT_STARTABLE: _l("该流程没有生效的版本，不能用来登记新案件"),
    ErrorCode.CASE_TYPE_NOT_FOUND: _l("案件类型不存在"),
    ErrorCode.CHOOSE_VERSION: _l("请选择版本"),
    ErrorCode.CHOOSE_CASES: _l("请选择要迁移的案件"),
    ErrorCode.VERSION_NOT_ACTIVE: _l("版本 %(version)s 尚未审批生效"),
    ErrorCode.MIGRATION_REASON_REQUIRED: _l("请说明迁移理由"),
    ErrorCode.FORCE_REASON_REQUIRED: _l("强制迁移需要第二个理由"),
    ErrorCode.PROCESS_ENDED: _l("案件流程已结束"),
    ErrorCode.PROCESS_CANCELLED: _l("案件流程已取消"),
    ErrorCode.ALREADY_ON_VERSION: _l("案件已在版本 %(version)s"),
    ErrorCode.SUBPROCESS_MISSING: _l("新版本缺少正在运行的子流程：%(elements)s"),
    ErrorCode.STEPS_CHANGED: _l("已完成或进行中的步骤在新版本中被修改或删除：%(elements)s"),
    ErrorCode.MIGRATION_FAILED: _l("迁移失败：%(detail)s"),
    # reports
    ErrorCode.REPORT_NOT_FOUND: _l("报表 %(report_id)s 不存在"),
    ErrorCode.UNKNOWN_KPI: _l("没有指标 %(kpi)s"),
    ErrorCode.BAD_COMPARATOR: _l("请选择“不低于”或“不高于”"),
    ErrorCode.BAD_TARGET_VALUE: _l("目标值应为 0 到 %(high)s 之间的数"),
    ErrorCode.DATES_REVERSED: _l("截止日期不能早于起始日期"),
    ErrorCode.SOURCE_REQUIRED: _l("请填写依据"),
    ErrorCode.TARGET_NOT_FOUND: _l("指标目标 %(target_id)s 不存在"),
    ErrorCode.ROW_ERRORS: _l("第 %(rows)s 行有误，未导入任何内容"),
    ErrorCode.PERIOD_TOO_LONG: _l("时间段不能超过 %(days)s 天"),
    # deadlines, calendar, supervision
    ErrorCode.NO_OVERRIDE: _l("%(day)s 没有生效的调整"),
    ErrorCode.BAD_DAY_KIND: _l("类型须为 workday（上班）或 holiday（休息）"),
    ErrorCode.CALENDAR_REASON_REQUIRED: _l("请说明调整原因"),
    ErrorCode.CLOCK_NOT_FOUND: _l("案件 %(case_no)s 没有 %(kind)s 时限"),
    ErrorCode.CLOCK_NOT_RUNNING: _l("案件 %(case_no)s 没有计时中的 %(kind)s 时限"),
    ErrorCode.REQUEST_NOT_FOUND: _l("时限申请 %(request_id)s 不存在或已处理"),
    ErrorCode.REQUEST_PENDING: _l("该时限已有待审批的申请"),
    ErrorCode.REQUEST_REASON_REQUIRED: _l("请说明申请理由"),
    ErrorCode.ONLY_SUSPEND_OR_EXTEND: _l("只能申请中止或延期"),
    ErrorCode.CHOOSE_EXTENSION_UNIT: _l("请选择延期单位"),
    ErrorCode.EXTENSION_COUNT: _l("延期数量须为 1 至 %(limit)s 的整数"),
    ErrorCode.BAD_EXTENSION: _l("延期期限无效"),
    ErrorCode.TOO_MANY_EXTENSIONS: _l("每个时限最多延期 %(limit)s 次"),
    ErrorCode.EXTENSION_TOO_LONG: _l("延长的期限不得超过原期限"),
    ErrorCode.NOTE_REQUIRED: _l("请填写情况说明"),
    ErrorCode.NOTICE_NOT_FOUND: _l("督办单 %(notice_id)s 不存在"),
    ErrorCode.NOTICE_CLOSED: _l("案件已办结，督办单已随案关闭，无需答复"),
    ErrorCode.NOTICE_REASON_REQUIRED: _l("请填写催办或督办的事由"),
    ErrorCode.NOTICE_CASE_CLOSED: _l("案件已办结，不能再催办或督办"),
    ErrorCode.NOTICE_DEPARTMENT_UNKNOWN: _l("请选择本案的牵头或承办单位"),
    ErrorCode.RISK_REASON_REQUIRED: _l("调整风险等级须说明理由"),
    ErrorCode.PLACE_NOT_FOUND: _l("地点 %(place_code)s 不存在"),
    # denials (NotPermitted; the rule names the policy rule)
    ErrorCode.NO_CASE_ACCESS: _l("无权访问此案件"),
    ErrorCode.NO_TASK_ACCESS: _l("无权办理此任务"),
    ErrorCode.PROCESS_OWNER_ONLY: _l("仅流程管理员可以管理流程"),
    ErrorCode.RELEASE_OWN_TASK: _l("只能释放自己认领的任务"),
    ErrorCode.SECOND_OWNER: _l("部署人不能审批自己部署的版本"),
    ErrorCode.DISTRICT_REPORTS: _l("只有区级督办员和领导可以生成全区报表"),
    ErrorCode.REPORTS_ROLE: _l("无权查看或生成报表"),
    ErrorCode.SUPERVISION_ROLE: _l("仅督办员和领导可查看督办情况"),
    ErrorCode.CALENDAR_ADMIN_ONLY: _l("只有系统管理员可以调整工作日历"),
    ErrorCode.SLA_REQUEST_HANDLER: _l("只有牵头部门承办人或指派的调解员可以申请"),
    ErrorCode.SLA_APPROVER: _l("只有督办员或领导可以审批时限申请"),
    ErrorCode.FOUR_EYES: _l("不能审批本人提出的申请"),
    ErrorCode.SLA_RESUME: _l("无权恢复计时"),
    ErrorCode.NOTICE_DEPARTMENT: _l("只能答复发给本部门的督办单"),
    ErrorCode.NOTICE_REPLY_ROLE: _l("仅承办部门可答复督办单"),
    ErrorCode.AUDITOR_ONLY: _l("仅审计员可查看"),
    ErrorCode.ADMIN_ONLY: _l("只有系统管理员可以管理账号、单位和地点"),
    ErrorCode.PLACE_SCOPE: _l("仅该地点所属单位的督办员、领导和系统管理员可查看"),
    ErrorCode.COCKPIT_ROLE: _l("驾驶舱仅供领导和督办员查看"),
    ErrorCode.IOT_CHANNEL_ONLY: _l("只有物联网（iot）渠道的令牌可以上报设备告警"),
    ErrorCode.QUARANTINE_ROLE: _l("仅受理员和系统管理员可查看隔离的设备告警"),
    ErrorCode.UNKNOWN_ALARM_KIND: _l("未知的设备类型 %(kind)s（烟感、燃气、门禁、漏水、电梯困人）"),
    ErrorCode.PLACE_NOT_BUILDING: _l("地点 %(code)s 不是楼栋（设备须登记在楼栋）"),
    ErrorCode.OCCURRED_TOO_OLD: _l("发生时间早于 %(days)s 天前"),
    ErrorCode.ATTACHMENT_EMPTY: _l("文件是空的"),
    ErrorCode.ATTACHMENT_TYPE: _l("只能上传这些类型的文件：%(allowed)s"),
    ErrorCode.ATTACHMENT_DISGUISED: _l("文件内容与扩展名 .%(extension)s 不符"),
    ErrorCode.ATTACHMENT_UNREADABLE: _l("图片无法读取（文件损坏或尺寸过大）"),
    ErrorCode.ATTACHMENT_NOT_FOUND: _l("附件不存在"),
    ErrorCode.ATTACHMENT_NAME: _l("文件名不能含路径或特殊字符，请改用普通文件名"),
    ErrorCode.TOO_MANY_FILES: _l("一次最多上传 %(limit)s 个文件"),
    ErrorCode.DOCUMENT_NOT_FOUND: _l("文书不存在"),
    ErrorCode.DOCUMENT_ALTERED: _l("文书记录已被改动，与首次出具时的文件（SHA-256）不一致，拒绝生成 PDF，请联系管理员核查"),
    ErrorCode.DOCUMENT_FONT_MISSING: _l("服务器缺少中文字体（%(path)s），无法生成 PDF，请管理员安装 fonts-wqy-microhei"),
    ErrorCode.PLACE_OUTSIDE_GRID: _l("%(code)s 不是本网格内的楼栋"),
    ErrorCode.GRID_PLACE_REQUIRED: _l("请选择楼栋，或写明在哪里"),
    ErrorCode.NO_GRID: _l("您的账号没有所属网格，请联系系统管理员"),
    ErrorCode.GRID_REPORT_NOT_FOUND: _l("没有这条上报"),
    ErrorCode.GRID_PERSONAL_DATA: _l(
        "“%(field)s”里不能写%(kind)s。当事人的姓名、电话不用上报：写明是哪一户"
        "（例如 3单元502室）即可，承办单位会上门联系并登记。"),
    ErrorCode.OWN_REPORTS_ONLY: _l("只能查看和回访自己上报的事件"),
}
# parameters that are codes themselves, shown with their label (code -> {param: label table})
PARAM_LABELS = {ErrorCode.VERSION_NOT_PENDING: {"status": "process_status"},
                ErrorCode.PERSONAL_DATA_IN_TEXT: {"kind": "personal_data"},
                ErrorCode.GRID_PERSONAL_DATA: {"kind": "personal_data", "field": "grid_field"}}
LIST_SEPARATOR = "、"


def message(error: FieldError | None) -> str | None:
    """A field error (code and parameters) as a sentence in the current language."""
    if error is None:
        return None
    if isinstance(error, str):  # words made elsewhere; never expected from a service
        return error
    words = MESSAGES.get(error.code)
    if words is None:
        return str(error.code)
    text = str(words)
    if not error.params:
        return text
    kinds = PARAM_LABELS.get(error.code, {})
    params = {name: _param(value, kinds.get(name)) for name, value in error.params.items()}
    try:
        return text % params
    except (KeyError, ValueError, TypeError):  # a parameter the words do not expect
        return text


def _param(value: Any, kind: str | None) -> Any:
    if kind:
        return label(kind, value)
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return value


def field_errors(errors: Mapping[str, FieldError] | None) -> dict[str, str]:
    """Every error of a field-error dict as words (for forms and pages)."""
    return {field: message(error) or "" for field, error in (errors or {}).items()}


def field_details(errors: Mapping[str, FieldError] | None) -> dict[str, dict[str, Any]]:
    """Field errors for the JSON API: machine-readable code and parameters, plus the words."""
    return {field: {"code": str(error.code), "params": dict(error.params),
                     "message": message(error)}
            for field, error in (errors or {}).items() if isinstance(error, FieldError)}


def describe(exc: DomainError) -> str:
    """A domain error as one line of words (the CLI; pages show field errors one by one)."""
    if isinstance(exc, InvalidInput):
        words = field_errors(exc.field_errors)
        return "；".join(f"{field}：{text}" for field, text in words.items())
    if exc.code:
        return message(FieldError(exc.code, exc.params)) or str(exc)
    return str(exc)
