"""Rule annotate_labels: the teacher's educational-value label for every sampled file."""

from phi1repro.quality.annotate import label_sample
from phi1repro.teacher.endpoint import teacher_endpoint
from phi1repro.workflow import run_step

with teacher_endpoint(snakemake.config["teacher"], snakemake.log.teacher) as teacher:
    run_step(
        snakemake,
        label_sample,
        sample=snakemake.input[0],
        annotate=snakemake.params.annotate,
        teacher=teacher,
        batch=snakemake.config["teacher"]["batch"],
        out=snakemake.output.labels,
        stats_out=snakemake.output.stats,
    )
