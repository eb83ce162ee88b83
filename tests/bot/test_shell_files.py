"""The terminal chat says where a document sent to the user is, as a messenger would send it."""

import io
from pathlib import Path

from bot.shell import print_answer
from channels.replies import OutgoingFile, Reply
from dialogs.engine import Answer
from locales.values import Msg


def test_a_reply_with_a_file_names_it_and_where_it_is() -> None:
    file = OutgoingFile("ab/ab12", "corrected-bill-4829105637.pdf", "application/pdf")
    answer = Answer(
        "fa", [Reply(Msg("requests.corrected_bill", {"code": "4829105637"}), [], [file])]
    )
    out = io.StringIO()
    print_answer(answer, out, Path("var/files"))
    assert "(file) corrected-bill-4829105637.pdf: var/files/ab/ab12" in out.getvalue()
