"""The ERP: system of record for customers, terms, prices, tax and the books. Ports here, adapters beside."""
