"""The code location: ``dg``, ``dagster dev -w workspace.yaml`` and the image's code server load
``defs`` from here. It builds the component instances of the project's ``defs/`` folder, whose
``lakehouse/defs.yaml`` configures the ``LakehouseComponent``.

Not ``dg.load_from_defs_folder``: besides the project's components, it imports every component
library installed in the environment to describe them to the UI (dagster-aws's alone brings in
boto3), which cost ~2.5 s on every load, in every run worker and code server, for a catalogue
this code location does not use.
"""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    tree = dg.ComponentTree.for_project(Path(__file__).parent)
    instances = tree.find_root_decl().iterate_child_component_decls()
    return dg.Definitions.merge(*(tree.build_defs(instance.loc) for instance in instances))
