"""Rule paper_grade: the teacher grades one model's solutions to the unconventional problems (Table 2)."""

from phi1repro.paper.grading import grade_samples
from phi1repro.teacher.endpoint import teacher_endpoint
from phi1repro.workflow import run_step

with teacher_endpoint(snakemake.config["teacher"], snakemake.log.teacher) as teacher:
    run_step(snakemake, grade_samples, samples=snakemake.input.samples, problems=snakemake.input.problems,
             grader=snakemake.params.grader, teacher=teacher, out=snakemake.output.grades,
             summary_out=snakemake.output.summary)
