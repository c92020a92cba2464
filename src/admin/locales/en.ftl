# English catalogue of the store console and the admin API's error messages.
# Console messages use only plain text and { $variable } placeholders (no
# selectors): the console substitutes them itself (i18n tests check this).

## Page

page-title = attendant · store console
app-name = attendant
language-switch = Language
sign-out = Sign out
signed-out = Signed out.
loading = Loading…
save = Save
cancel = Cancel
delete = Delete
add = Add
remove = Remove
edit = Edit
none = —
saved = Saved.

## Sign-in

sign-in-token = Admin token
sign-in = Sign in
sign-in-help = Your token is given to you by whoever runs the attendant (the operator): they issue it in the console's Tokens page or with `attendant admin token issue`. It starts with “att.” and is shown once; ask them for a new one if it is lost.

## Tabs

tab-directory = Directory
tab-import = Import
tab-sync = Warnings
tab-calls = Calls
tab-stats = Statistics
tab-hours = Hours
tab-menu = Menu
tab-prompts = Prompts
tab-tokens = Tokens
tab-audit = Audit log
tab-fixes = Not understood
store = Store

## Directory

search-placeholder = Search name, department, extension
new-entry = New entry
field-name = Name
field-aliases = Aliases (separated by ;)
field-department = Department
field-extension = Extension
field-target = Target (extension or sip: URI; empty = extension)
field-fallback = If busy or no answer
field-enabled = Enabled
col-name = Name
col-department = Department
col-extension = Ext.
col-target = Target
entry-disabled = disabled
entry-saved = Saved { $name } (version { $version }).
entry-deleted = Deleted (version { $version }).
entry-confirm-delete = Delete { $name }?

## Import

import-help = Upload the directory as CSV (from Excel too: “;” or tabs, any encoding) or JSON. You see what would change before anything is applied.
import-mode = Import mode
import-mode-replace = Replace the whole directory
import-mode-merge = Merge: add and update, keep the others
import-apply-replace = Apply: replace the directory ({ $removed } entries removed)
import-confirm-removals = This replaces the whole directory: { $removed } entries will be removed. Apply?
import-directory-changed = The directory changed since your preview (someone else edited it): nothing was applied. Preview the file again.
import-read-as = Read as { $encoding }.
import-read-as-separated = Read as { $encoding }, columns separated by { $separator }.
import-separator-tab = tabs
import-preview = Preview
import-apply = Apply this import
import-choose-file = Choose a file first.
import-summary = { $added } added, { $changed } changed, { $removed } removed, { $unchanged } unchanged
import-added = Added
import-changed = Changed
import-removed = Removed
import-pending = Nothing is changed yet: check the differences, then apply.
import-done = Imported: version { $version }.
export-csv = Export CSV
export-json = Export JSON
export-excel = Export for Excel
export-failed = Export failed ({ $status }).

## Warnings

sync-not-checked = The speech engine's vocabulary was not checked.
sync-unrecognisable = Names the engine cannot recognise
sync-similar = Names that sound alike
sync-similar-hint = add an alias or a department
sync-more = … and { $count } more pairs that sound alike.
sync-none = No warnings.

## Calls

col-when = When
col-caller = Caller
col-said = Said
col-understood = Understood
col-went-to = Went to
heard-keys = keys { $keys }
heard-nothing = (nothing decodable)
understood-no-match = no match
understood-to-confirm = { $name } (to confirm)
calls-none = No calls in this period.
period-from = From
period-to = To
period-show = Show
all-stores = All stores

## Outcomes (how a call ended)

outcome-speech = Speech, transferred
outcome-keypad = Keypad, transferred
outcome-spelled = Spelled name, transferred
outcome-menu = Menu option, transferred
outcome-operator = Operator
outcome-after_hours = After hours, transferred
outcome-gave_up = Gave up
outcome-closed = Closed message
outcome-hung_up = Caller hung up
outcome-not_answered = Not answered
outcome-other = Other

## Recognition outcomes

recognition-at_once = Understood at once
recognition-confirmed = After a confirmation
recognition-menu = After a choice between names
recognition-not_understood = Not understood

## Statistics

stats-title = Do callers get through?
stats-total = { $calls } calls, { $through } put through ({ $share })
stats-per-day = Calls per day
stats-per-hour = Calls per hour of the day (store time); shaded: usually open
stats-outcomes = How calls ended
stats-recognition = Speech recognition
stats-names = Most requested names
stats-no-speech = No speech attempts in this period.
stats-export = Export the calls (CSV)
stats-calls = calls

## Hours

hours-time-zone = Time zone
hours-always-open = Always open (no opening hours)
hours-weekly = Usual week
hours-day-help = Intervals like 09:00-12:00, 14:00-19:00; empty = closed
day-monday = Monday
day-tuesday = Tuesday
day-wednesday = Wednesday
day-thursday = Thursday
day-friday = Friday
day-saturday = Saturday
day-sunday = Sunday
hours-holidays = Holidays and special days
hours-holiday-date = Date
hours-holiday-label = Label
hours-holiday-hours = Hours (empty = closed)
hours-add-holiday = Add a day
hours-after = When closed
hours-after-message = Play a message, then hang up
hours-after-operator = Transfer to the operator
hours-after-transfer = Transfer to
hours-message = Message
hours-target = Extension or sip: URI
hours-preview = Closed now?
hours-open-now = Open now ({ $time }, store time).
hours-closed-now = Closed now ({ $time }, store time).
hours-bad-interval = “{ $text }” is not an interval like 09:00-12:00.
hours-saved = Opening hours saved (version { $version }).

## Menu

menu-help = Keys the caller can press after the greeting. The operator's key is set by the attendant's configuration.
menu-key = Key
menu-label = Label
menu-target = Extension or sip: URI
menu-add = Add an option
menu-saved = Menu saved (version { $version }).
menu-spell-key = Spell key (keypad name search): { $key }
menu-no-spell-key = Spell key: the attendant's configured default, if it has one.

## Prompts

prompts-help = The greeting and the other messages callers hear.
prompts-unavailable = Uploading and listening to prompts needs the prompts API, which this attendant does not have yet.

## Tokens

tokens-help = Tokens sign in to this console and the API. Give each person their own, with a label saying whose it is, and revoke it when they leave.
token-label = Label (whose token)
token-expiry = Expires after (days; empty = never)
token-issue = Issue a token
token-issued = New token for { $label }, shown only now: copy it and hand it over.
token-col-id = Id
token-col-label = Label
token-col-created = Created
token-col-expires = Expires
token-col-state = State
token-active = active
token-revoked = revoked
token-expired = expired
token-never = never
token-revoke = Revoke
token-confirm-revoke = Revoke the token { $label }? Whoever uses it is signed out.
token-revoked-done = Token revoked.

## Audit

audit-action = Action
audit-actor = Who
audit-filter = Filter
audit-col-at = When
audit-col-actor = Who
audit-col-action = What
audit-col-detail = Detail

## Not understood

fixes-help = Calls that ended at the operator or were given up after the caller spoke. Turn each into a fix.
fixes-none = No call went unanswered by speech in this period.
fixes-heard = Heard: “{ $text }”
fixes-wanted = Entry they wanted
fixes-add-alias = Add “{ $text }” as an alias
fixes-alias-added = “{ $text }” is now an alias of { $name }.
fixes-no-audio = (not recorded)

## Field values refused (English must say what the code used to say)

invalid-limit = limit { $n } is not in 1..=1000
invalid-target = `{ $field }` value `{ $value }` is neither an extension (digits) nor a sip:/sips: URI
invalid-store-name = `name` must be 1 to 120 characters, without control characters
invalid-store-number = `number` value `{ $number }` must be 1 to 20 digits, with an optional leading +
invalid-token-label = `label` must be 1 to 120 characters
invalid-expiry-range = expiry out of range
invalid-expiry-days = `expires_in_days` { $days } is not in 1..=3660
invalid-menu-digit = menu digit `{ $digit }` must be one key, 1-9
invalid-menu-label = menu { $digit }: the label must be 1 to 120 characters
invalid-period-reversed = the period ends ({ $to }) before it starts ({ $from })
invalid-period-too-long = the period is longer than { $days } days
menu-digit-not-a-key = menu of store-{ $store }: digit { $digit } is not 1-9
menu-digit-twice = menu of store-{ $store }: digit { $digit } appears twice
hours-unknown-time-zone = unknown time zone "{ $name }"
hours-empty-interval = { $day }: interval { $open }-{ $close } closes before it opens
hours-overlap = { $day }: intervals { $first } and { $second } overlap
hours-duplicate-holiday = holiday { $date } is given twice
hours-empty-closed-message = the closed message is empty
duplicate-entry = store-{ $store } already has an entry `{ $key }`
duplicate-extension = store-{ $store } already has an entry with extension { $extension }
duplicate-number = a store already answers number { $number }

## API errors (code → message)

error-missing-token = missing bearer token: send `Authorization: Bearer <token>`
error-token-malformed = malformed token
error-token-invalid = invalid token
error-token-expired = token expired
error-rate-limited = too many failed attempts from this address; retry in { $seconds } s
error-forbidden = this token may not { $what }
forbidden-access-another-store = access another store
forbidden-list-stores = list stores
forbidden-create-stores = create stores
forbidden-issue-tokens = issue tokens
forbidden-revoke-tokens = revoke tokens
forbidden-read-the-installations-audit-log = read the installation's audit log
forbidden-read-the-registrations = read the registrations
forbidden-read-every-stores-statistics = read every store's statistics
forbidden-manage-another-stores-tokens = manage another store's tokens
error-not-found-store = store { $id } not found
error-not-found-entry = entry { $id } not found
error-not-found-token = token { $id } not found
error-not-found-route = route not found
error-not-found = { $what } not found
error-bad-request = { $detail }
error-invalid = { $detail }
error-rejected = { $detail }
error-conflict = { $detail }
error-too-large = { $detail }
error-unsupported-media-type = unsupported content type { $found }: expected { $expected }
error-internal = internal error
error-timeout = the request took longer than { $limit } ms and was stopped; nothing was changed by it unless a later read shows otherwise
error-directory-changed = the directory changed since you previewed it (version { $previewed }, now { $current }): preview the file again
error-confirm-removals = this import replaces the directory and removes entries ({ $removed } of them): send confirm_removals={ $removed } to apply it, or import with mode=merge to keep them
error-method-not-allowed = method not allowed on this route
