"""Every dialog state's stable name, in one place: they are stored in the database."""

MENU = "menu"
MENU_BILL_ID = "menu.bill_id"  # a bill ID typed at the menu: what can be done with it
LANGUAGE = "language"

REVIEW_BILL_ID = "review.bill_id"
REVIEW_BILL = "review.bill"
REVIEW_REASON = "review.reason"
REVIEW_DESCRIPTION = "review.description"
REVIEW_DOCUMENTS = "review.documents"
REVIEW_SUMMARY = "review.summary"
REVIEW_EDIT = "review.edit"

TRACK_CODE = "track.code"

PHONE = "phone"
PHONE_STAFF_CODE = "phone.staff_code"

REMOVAL_BILL_ID = "removal.bill_id"
REMOVAL_CONTACT = "removal.contact"
REMOVAL_CODE = "removal.code"
REMOVAL_REASON = "removal.reason"
REMOVAL_REASON_TEXT = "removal.reason_text"
REMOVAL_ID_CARD = "removal.id_card"
REMOVAL_PROPERTY = "removal.property"
REMOVAL_PROPERTY_DOCS = "removal.property_docs"
REMOVAL_NO_REFUND = "removal.no_refund"
REMOVAL_SUMMARY = "removal.summary"

# A counter's operator files for the subscriber at the counter (then the flows above go on).
COUNTER_SERVICE = "counter.service"
COUNTER_BILL_ID = "counter.bill_id"
COUNTER_CODE = "counter.code"  # the consent code texted to the subscription's registered mobile

MY_REQUESTS = "requests.list"
MY_REQUEST = "requests.detail"
MY_REQUEST_CONFIRM = "requests.confirm"
MY_REQUEST_PAPER = "requests.paper"
MY_REQUEST_DOCUMENTS = "requests.documents"

STAFF_QUEUE = "staff.queue"
STAFF_FIND = "staff.find"  # the requests a bill ID, a mobile or a national ID names, in pages
STAFF_ASSIGN = "staff.assign"
STAFF_DECIDE = "staff.decide"
STAFF_DECIDE_AMOUNT = "staff.decide_amount"
STAFF_DECIDE_REASON = "staff.decide_reason"
STAFF_DECIDE_NOTE = "staff.decide_note"
STAFF_PAID_METHOD = "staff.paid_method"
STAFF_CONFIRM = "staff.confirm"  # what a decision sends the subscriber, before it is sent
STAFF_HISTORY = "staff.history"  # only the name of the full history's buttons: never entered
STAFF_ACT = "staff.act"  # only the name of staff notices' buttons: never entered
STAFF_REPORT = "staff.report"  # only the name of the weekly report's chart button: never entered
STAFF_INSPECT = "staff.inspect"  # a counter's visit: the next item of the checklist
STAFF_INSPECT_EXTRA = "staff.inspect_extra"  # a note and a photo after a failed item

COUNTERS_CITY = "counters.city"  # a subscriber asks for the pishkhan counters of a city
STAFF_COUNTER_PAPER = "staff.counter_paper"  # a counter's letter or agreement, scanned

FEEDBACK = "feedback"  # only the name of the feedback question's buttons: never entered
FEEDBACK_COMMENT = "feedback.comment"

MY_BILL = "my_bill"  # which bill ID, followed or typed
MY_BILL_SHOWN = "my_bill.shown"  # its latest bill, chart and buttons

FOLLOW_LIST = "follow.list"
FOLLOW_ADD = "follow.add"
FOLLOW_LABEL = "follow.label"
FOLLOW_REMOVE = "follow.remove"
NOTICES = "notices"

BROADCAST_KIND = "broadcast.kind"
BROADCAST_TEXT = "broadcast.text"
BROADCAST_PLACE = "broadcast.place"
BROADCAST_DAY = "broadcast.day"
BROADCAST_HOURS = "broadcast.hours"
BROADCAST_REASON = "broadcast.reason"
BROADCAST_PREVIEW = "broadcast.preview"
BROADCAST_AUDIENCE = "broadcast.audience"
BROADCAST_AREA = "broadcast.area"
BROADCAST_FEEDERS = "broadcast.feeders"
BROADCAST_REQUESTS = "broadcast.requests"
BROADCAST_CSV = "broadcast.csv"
BROADCAST_CHANNELS = "broadcast.channels"
BROADCAST_CONFIRM = "broadcast.confirm"
BROADCAST_SEND_NOW = "broadcast.send_now"  # the count once more before sending at once
BROADCAST_WHEN = "broadcast.when"
BROADCAST_LIST = "broadcast.list"

OUTAGES = "outages.list"  # the coming planned outages of my bill IDs, or of a place typed
OUTAGES_CSV = "outages.csv"  # staff: a dispatch centre's schedule, entered without broadcasting
REPORT_WHERE = "report.where"
REPORT_PLACE = "report.place"  # after a shared location: which bill ID or area it is
REPORT_PROBLEM = "report.problem"
READING_BILL = "reading.bill"
READING_DIGITS = "reading.digits"
READING_PHOTO = "reading.photo"

# Services defined as data (dialogs.service_flow): one set of states for all of them.
SERVICES = "service.list"
SERVICE_QUESTION = "service.question"
SERVICE_CODE = "service.code"  # the registered mobile proven by a code
SERVICE_FILER = "service.filer"  # how the filer may file it (its definition's filers)
SERVICE_DOCUMENTS = "service.documents"  # a required document
SERVICE_MORE_DOCUMENTS = "service.more_documents"  # an optional one
SERVICE_SUMMARY = "service.summary"
