-- A reporting function; its body contains semicolons inside dollar quotes.
CREATE FUNCTION account_order_total(p_account bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(total_cents), 0) INTO total
      FROM orders
     WHERE account_id = p_account AND status <> 'cancelled';
    RETURN total;
END;
$$;

CREATE VIEW account_summaries AS
SELECT a.id, a.email, count(o.id) AS orders, account_order_total(a.id) AS total_cents
  FROM accounts a LEFT JOIN orders o ON o.account_id = a.id
 GROUP BY a.id, a.email;
