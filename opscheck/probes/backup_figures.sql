-- What a backup records at dump time and a restore must reproduce (opscheck: W5, MM3, R1).
-- Run it right after pg_dump, on the same database:  psql -X -At -f backup_figures.sql
-- It prints one JSON object; put it in backup.json as "figures". opscheck runs this same file.
-- It needs nothing of the schema but the manual's stock_prices, which it reads once: per symbol its days,
-- rows and the sum of one 64-bit hash per row, whose total is an order-independent fingerprint (any changed,
-- lost or added row changes it).
WITH per_symbol AS (
    SELECT symbol, min(date)::text AS first, max(date)::text AS last, count(*) AS rows,
           sum(hashtextextended(concat_ws('|', symbol, date, open, high, low, close, volume), 0)::numeric) AS hashes
    FROM stock_prices GROUP BY symbol
)
SELECT json_build_object(
    -- every table's exact row count, whatever the schema holds (query_to_xml runs each count read-only)
    'row_counts', (SELECT coalesce(json_object_agg(CASE WHEN schemaname = 'public' THEN tablename
                                                        ELSE schemaname || '.' || tablename END,
                       (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
                        schemaname, tablename), false, true, '')))[1]::text::bigint ORDER BY schemaname, tablename),
                       '{}'::json)
                   FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
    'symbols', (SELECT count(*) FROM per_symbol),
    'first_date', (SELECT min(first) FROM per_symbol),
    'last_date', (SELECT max(last) FROM per_symbol),
    'per_symbol', (SELECT coalesce(json_object_agg(symbol, json_build_array(first, last)), '{}'::json) FROM per_symbol),
    'fingerprint', (SELECT coalesce(sum(rows), 0) || ':' || mod(coalesce(sum(hashes), 0), 18446744073709551616)
                    FROM per_symbol),
    'indexes', (SELECT coalesce(json_agg(indexname ORDER BY indexname), '[]'::json)
                FROM pg_indexes WHERE schemaname = 'public')
) AS figures;
