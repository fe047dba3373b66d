"""Rule synth_textbooks: one part of the textbook sections, up to its share of the token target."""

from phi1repro.synth.generate import generate_textbooks
from phi1repro.teacher.endpoint import teacher_endpoint
from phi1repro.workflow import run_step

with teacher_endpoint(snakemake.config["teacher"], snakemake.log.teacher) as teacher:
    run_step(
        snakemake,
        generate_textbooks,
        part=int(snakemake.wildcards.part),
        cfg={**snakemake.params.textbooks, "round_size": snakemake.config["synth"]["textbooks"]["round_size"]},
        seed=snakemake.params.seed,
        teacher=teacher,
        batch=snakemake.config["teacher"]["batch"],
        out=snakemake.output.sections,
        stats_out=snakemake.output.stats,
    )
