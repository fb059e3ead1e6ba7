# Generation: one synthetic table per (generator, dataset, n, seed).


rule generate:
    conda:
        "../../envs/generate.yaml"
    input:
        # members and the dataset sidecar; the holdout rows only for the holdout control
        unpack(lambda w: PLAN.generate_inputs(w.generator)),
        llm_server=LLM.input,  # llm_icl entries with a `server:`: the service job's file (llm.smk)
    output:
        table=paths.SYNTHETIC,
        sidecar=paths.sidecar(paths.SYNTHETIC),
    params:
        entry=generator_entry,
        plugin=generator_plugin,
        rows=holdout_rows,
        code=generator_code,
    resources:
        # Per generator (every generator shares this rule, so a profile's per-rule set-resources
        # cannot tell them apart): the kind's declared RESOURCES (tabdiff, tabpfn: 1 GPU) updated
        # with the config entry's `resources:` (synthrisk.plan.Plan.resources). gpu 0 / gpu_model ""
        # add nothing to the sbatch line; the Slurm profile must not set-resources these keys.
        gpu=lambda w: PLAN.resources(w.generator)["gpu"],
        gpu_model=lambda w: PLAN.resources(w.generator)["gpu_model"],
        runtime=lambda w: PLAN.resources(w.generator)["runtime"],
        mem_mb=lambda w: PLAN.resources(w.generator)["mem_mb"],
        cpus_per_task=lambda w: PLAN.resources(w.generator)["cpus_per_task"],
    # On a cluster: grouped per generator, N jobs to one submission (profiles/slurm group-components)
    group:
        generate_group
    # consumers of an LLM server only wait on HTTP: 0 threads (a service group's threads are summed)
    threads: lambda w: LLM.generate_threads(w.generator, 1)
    log:
        f"{paths.LOGS}/generate/{{generator}}/{{dataset}}/n{{n}}/s{{seed}}.log",
    script:
        "../scripts/generate.py"
