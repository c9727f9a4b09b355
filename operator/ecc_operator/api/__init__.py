"""The custom resources of `ecc.dev/v1alpha1`, one module per kind, from which the CRDs are generated.

One pydantic model per spec and status is the single source of truth:

* `ecc_operator.gen.crdgen` turns them into the CustomResourceDefinitions in `crds/` (field
  descriptions, defaults, enums, bounds, and the CEL rules declared with `Rule`);
* the controllers parse custom resources with them — the CRD speaks camelCase, Python
  snake_case (``CloudTeacherSpec.model_validate(body["spec"])``);
* every cross-field `Rule` carries the CEL expression the API server enforces *and* the same
  check in Python, so a spec that passes the API server passes the models and vice versa.

Keep every field documented: the description becomes `kubectl explain` text.
"""

from ecc_operator.api.adaptationpolicy import ADAPTATION_POLICY
from ecc_operator.api.cloudteacher import CLOUD_TEACHER
from ecc_operator.api.common import Kind
from ecc_operator.api.edgefleet import EDGE_FLEET

KINDS: tuple[Kind, ...] = (CLOUD_TEACHER, EDGE_FLEET, ADAPTATION_POLICY)
