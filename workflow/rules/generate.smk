# Generation: one job per cell, every (n, seed) of one generator on one dataset (synthrisk.cells):
# it writes each synthetic table (paths.SYNTHETIC) and then the cell's manifest, the one output
# Snakemake tracks. A rerun recomputes only the tables whose inputs, params or code changed.


rule generate:
    conda:
        "../../envs/generate.yaml"
    input:
        # the dataset's split cell (members; holdout for the holdout control) and its sidecar
        unpack(lambda w: PLAN.generate_inputs(w.generator)),
        llm_server=LLM.input,  # llm_icl entries with a `server:`: the service job's file (llm.smk)
    output:
        paths.SYNTHETIC_CELL,
    params:
        entry=generator_entry,
        plugin=generator_plugin,
        cell=lambda w: PLAN.generate_items(w.generator, w.dataset),  # [n, seed, rows] per table
        code=generator_code,
    resources:
        # Per generator (every generator shares this rule, so a profile's per-rule set-resources
        # cannot tell them apart): the kind's declared RESOURCES (tabdiff, tabpfn: 1 GPU) updated
        # with the config entry's `resources:`, runtime per table times the cell's tables
        # (synthrisk.plan.Plan.cell_resources). gpu 0 / gpu_model "" add nothing to the sbatch
        # line; the Slurm profile must not set-resources these keys.
        gpu=lambda w: cell_resources(w)["gpu"],
        gpu_model=lambda w: cell_resources(w)["gpu_model"],
        runtime=lambda w: cell_resources(w)["runtime"],
        mem_mb=lambda w: cell_resources(w)["mem_mb"],
        cpus_per_task=lambda w: cell_resources(w)["cpus_per_task"],
    # On a cluster: grouped per generator, N jobs to one submission (profiles/slurm group-components)
    group:
        generate_group
    # consumers of an LLM server only wait on HTTP: 0 threads (a service group's threads are summed)
    threads: lambda w: LLM.generate_threads(w.generator, 1)
    log:
        f"{paths.LOGS}/generate/{{generator}}/{{dataset}}.log",
    script:
        "../scripts/generate.py"
