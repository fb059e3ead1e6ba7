"""Generator registry: a generator *kind* is one module plus one line here.

A config entry ``generators: {name: {kind: ..., params: {...}}}`` names an instance of a kind;
two variants of one kind are two names.
"""
from synthrisk.registry import Registry

GENERATORS = Registry(
    "generator kind",
    {
        "copy": "synthrisk.generators.controls:CopyGenerator",
        "holdout": "synthrisk.generators.controls:HoldoutGenerator",
        "fail": "synthrisk.generators.controls:FailGenerator",
        "ctgan": "synthrisk.generators.sdv_models:CTGANGenerator",
        "tvae": "synthrisk.generators.sdv_models:TVAEGenerator",
        "smote": "synthrisk.generators.smote:SMOTEGenerator",
        "tabdiff": "synthrisk.generators.tabdiff:TabDiffGenerator",
        "tabpfn": "synthrisk.generators.tabpfn:TabPFNGenerator",
        "llm_icl": "synthrisk.generators.llm_icl:LLMICLGenerator",
        "dptvae": "synthrisk.generators.dp_tvae:DPTVAEGenerator",
        "mst": "synthrisk.generators.dp_marginal:MSTGenerator",
        "aim": "synthrisk.generators.dp_marginal:AIMGenerator",
        "dp_llm": "synthrisk.generators.dp_llm:DPLLMGenerator",
        "progsyn": "synthrisk.generators.progsyn:ProgSynGenerator",
    },
)
#: kinds with a differential-privacy guarantee (an ``epsilon`` param): the plan draws ``dp_curve`` when one runs
DP_KINDS = ("dptvae", "mst", "aim", "dp_llm")
