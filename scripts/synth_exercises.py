"""Rule synth_exercises: one part of the CodeExercises, each validated by execution."""

from phi1repro.synth.generate import generate_exercises
from phi1repro.teacher.endpoint import teacher_endpoint
from phi1repro.workflow import run_step

validation = {**snakemake.params.validation_limits, "workers": snakemake.threads}
with teacher_endpoint(snakemake.config["teacher"], snakemake.log.teacher) as teacher:
    run_step(
        snakemake,
        generate_exercises,
        part=int(snakemake.wildcards.part),
        cfg={**snakemake.params.exercises, "validation": validation,
             "round_size": snakemake.config["synth"]["exercises"]["round_size"]},
        seed=snakemake.params.seed,
        teacher=teacher,
        batch=snakemake.config["teacher"]["batch"],
        out=snakemake.output.exercises,
        rejected_out=snakemake.output.rejected,
        stats_out=snakemake.output.stats,
    )
