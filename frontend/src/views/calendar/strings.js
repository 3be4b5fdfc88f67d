// The calendar's strings, in the app's languages (kept beside the view so the shared catalogs
// stay small; `ct` follows the app's current locale and falls back to English).

import { locale } from '../../lib/i18n.js';

const en = {
  title: 'Calendar',
  personal: 'Personal',
  today: 'Today',
  previous: 'Previous',
  next: 'Next',
  agenda: 'Agenda',
  day: 'Day',
  week: 'Week',
  month: 'Month',
  views: 'Calendar view',
  calendars: 'Calendars',
  newEvent: 'New event',
  editEvent: 'Edit event',
  eventTitle: 'Title',
  description: 'Description',
  location: 'Location',
  calendar: 'Calendar',
  allDay: 'All day',
  start: 'Starts',
  end: 'Ends',
  zone: 'Time zone',
  repeat: 'Repeat',
  never: 'Does not repeat',
  daily: 'Every day',
  weekly: 'Every week',
  monthlyDate: 'Every month on this date',
  monthlyWeekday: 'Every month on this weekday',
  yearly: 'Every year',
  custom: 'Custom rule (RRULE)',
  count: 'Times (empty: no end)',
  reminders: 'Remind me (minutes before)',
  remindersHint: 'Several allowed, separated by commas: 10, 60, 1440',
  attendees: 'Invite people',
  save: 'Save',
  cancel: 'Cancel',
  delete: 'Delete',
  edit: 'Edit',
  download: 'Download .ics',
  history: 'History',
  restore: 'Restore',
  noEvents: 'Nothing scheduled.',
  which: 'Change which events?',
  thisEvent: 'This event',
  following: 'This and following events',
  all: 'All events',
  going: 'Going?',
  accepted: 'Accept',
  tentative: 'Tentative',
  declined: 'Decline',
  none: 'No answer',
  answers: 'Answers',
  invitation: 'Invitation',
  invited: '📅 Invitation: {title} — {when} #/calendar/event/{id}',
  subscribe: 'Subscribe from your phone',
  subscribeLead: 'Add this private address to your phone or desktop calendar app. Anyone with it can read your calendars: revoke it if it leaks.',
  makeFeed: 'Make a private address',
  withTasks: 'Include my tasks’ due dates',
  revoke: 'Revoke',
  revoked: 'Revoked',
  offline: 'You are offline: try again when connected.',
  reminder: 'Reminder: {title}',
  startsAt: 'Starts at {time}',
  hide: 'Show {name}',
  task: 'Task',
  more: '+{count} more',
};

const zhCN = {
  title: '日历', personal: '个人', today: '今天', previous: '上一页', next: '下一页', agenda: '日程',
  day: '日', week: '周', month: '月', views: '日历视图', calendars: '日历', newEvent: '新建活动',
  editEvent: '编辑活动', eventTitle: '标题', description: '描述', location: '地点', calendar: '日历',
  allDay: '全天', start: '开始', end: '结束', zone: '时区', repeat: '重复', never: '不重复',
  daily: '每天', weekly: '每周', monthlyDate: '每月同一天', monthlyWeekday: '每月同一星期', yearly: '每年',
  custom: '自定义规则 (RRULE)', count: '次数（留空：不结束）', reminders: '提醒我（提前分钟数）',
  remindersHint: '可填多个，用逗号分隔：10, 60, 1440', attendees: '邀请成员', save: '保存', cancel: '取消',
  delete: '删除', edit: '编辑', download: '下载 .ics', history: '历史', restore: '恢复', noEvents: '没有安排。',
  which: '修改哪些活动？', thisEvent: '仅此活动', following: '此活动及之后的活动', all: '所有活动',
  going: '参加吗？', accepted: '接受', tentative: '暂定', declined: '拒绝', none: '未回复', answers: '回复',
  invitation: '邀请', invited: '📅 邀请：{title} — {when} #/calendar/event/{id}', subscribe: '在手机上订阅',
  subscribeLead: '把这个私密地址添加到手机或电脑的日历应用。拿到地址的人都能读取你的日历：泄露时请撤销。',
  makeFeed: '生成私密地址', withTasks: '包含我的任务截止日期', revoke: '撤销', revoked: '已撤销',
  offline: '你处于离线状态：联网后再试。', reminder: '提醒：{title}', startsAt: '{time} 开始', hide: '显示 {name}',
  task: '任务', more: '还有 {count} 项',
};

const CATALOGS = { en, 'zh-CN': zhCN };

/** @param {string} key @param {Record<string, string|number>} [params] */
export function ct(key, params = {}) {
  const table = CATALOGS[locale()] ?? en;
  const text = table[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}
