"""Rule decontam_report: the decontamination report (JSON, markdown, plot) over every match table."""

from phi1repro.decontam.report import decontam_report
from phi1repro.workflow import run_step

run_step(snakemake, decontam_report, matches=list(snakemake.input.matches), stats=list(snakemake.input.stats),
         benchmarks=list(snakemake.input.benchmarks), settings=snakemake.params.settings,
         out_json=snakemake.output.json, out_md=snakemake.output.markdown, plot=snakemake.output.plot)
