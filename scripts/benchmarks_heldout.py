"""Rule benchmarks_heldout: the demo's held-out benchmark, CodeExercises for names no model trains on."""

from phi1repro.synth.heldout import generate_heldout
from phi1repro.teacher.endpoint import teacher_endpoint
from phi1repro.workflow import run_step

validation = {**snakemake.params.validation_limits, "workers": snakemake.threads}
with teacher_endpoint(snakemake.config["teacher"], snakemake.log.teacher) as teacher:
    run_step(
        snakemake,
        generate_heldout,
        exercises={**snakemake.params.exercises, "validation": validation,
                   "round_size": snakemake.config["synth"]["exercises"]["round_size"]},
        count=snakemake.params.heldout,
        seed=snakemake.params.seed,
        teacher=teacher,
        batch=snakemake.config["teacher"]["batch"],
        out=snakemake.output.problems,
        rejected_out=snakemake.output.rejected,
        stats_out=snakemake.output.stats,
    )
