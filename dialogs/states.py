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

FEEDBACK = "feedback"  # only the name of the feedback question's buttons: never entered
FEEDBACK_COMMENT = "feedback.comment"

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
