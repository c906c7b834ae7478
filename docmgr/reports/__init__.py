"""Statistics of văn bản đến and văn bản đi: counts by SQL aggregates, tables, SVG charts,
CSV/XLSX exports and a printable report."""
