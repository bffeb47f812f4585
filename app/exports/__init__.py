"""Values in and out: importing indicator values from a CSV or XLSX file (preview, row-by-row
report, then one all-or-nothing transaction), exporting them as CSV and XLSX with formulas
neutralised, and the plan in force as a PDF (WeasyPrint, isolated from the network)."""
