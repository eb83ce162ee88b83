"""Who may file a service defined as data (its definition's `filers`) and what each proves.

- "registered_mobile": the filer holds the subscription's registered mobile, proven by the code
  texted to it (the answer `mobile_proven`); where the definition's ownership_proof is
  "registered_mobile_or_counter", one who lost that number files as its holder all the same,
  and a pishkhan counter confirms them at a later step.
- "owner": the property's owner, who sends the ownership deed (or what the definition's deed
  document also takes, its or_types).
- "sole_user": the one who alone uses the connection (seed 001's applicant for a removal, who
  need not own the property), who sends the lease it is used under (or what the definition's
  document taking a lease also takes: a deed proves the property alike).

The proof document is the definition's own document of that type, then required, or, where it
asks for none, one more document asked first.
"""

from collections.abc import Collection, Mapping
from typing import Any

from backend.constants import DocumentType
from backend.services.schema import Document, Filer, ServiceDefinition
from backend.workflows import Refused

REGISTERED_MOBILE: Filer = "registered_mobile"
PROOF_DOCUMENTS: Mapping[Filer, DocumentType] = {
    "owner": DocumentType.OWNERSHIP_DEED,
    "sole_user": DocumentType.LEASE,
}


def _takes(document: Document) -> tuple[str, ...]:
    return (document.type, *document.or_types)


def proof_document(definition: ServiceDefinition, filer: Filer) -> Document | None:
    """The document that proves `filer` may file, required; None for the registered mobile."""
    wanted = PROOF_DOCUMENTS.get(filer)
    if wanted is None:
        return None
    own = next((d for d in definition.documents if wanted in _takes(d)), None)
    if own is None:
        return Document(type=wanted, required=True)
    return own.model_copy(update={"required": True})


def documents_for(definition: ServiceDefinition, filer: Filer) -> tuple[Document, ...]:
    """The documents asked of `filer`, in order: the definition's, with its proof among them."""
    proof = proof_document(definition, filer)
    if proof is None:
        return definition.documents
    documents = definition.documents
    for i, document in enumerate(documents):
        if _takes(document) == _takes(proof):
            return (*documents[:i], proof, *documents[i + 1 :])
    return (proof, *documents)


def needs_document(definition: ServiceDefinition, filer: Filer) -> bool:
    """Whether `filer` must send a document to file (which SMS cannot carry)."""
    return any(document.required for document in documents_for(definition, filer))


def mobile_proof_waits(definition: ServiceDefinition) -> bool:
    """Whether the registered mobile's holder may file unproven, a counter confirming later."""
    return definition.ownership_proof == "registered_mobile_or_counter"


def check_filer(
    definition: ServiceDefinition,
    filer: str,
    answers: Mapping[str, Any],
    document_types: Collection[str],
) -> Filer:
    """`filer` when the definition lets it file and its proof came with the request (the
    answers, the documents' types); Refused "service_filer_unproven" otherwise."""
    chosen = next((f for f in definition.filers if f == filer), None)
    if chosen is None:
        raise Refused("service_filer_unproven", filer=filer)
    proof = proof_document(definition, chosen)
    if proof is None:
        proven = answers.get("mobile_proven") is True or mobile_proof_waits(definition)
    else:
        proven = any(kind in _takes(proof) for kind in document_types)
    if not proven:
        raise Refused("service_filer_unproven", filer=filer)
    return chosen
