"""Every dialog state's stable name, in one place: they are stored in the database."""

MENU = "menu"
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
