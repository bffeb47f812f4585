"""The JSON API for suppliers' and buyers' systems (ERP, logistics): personal access tokens
scoped to one contract, read or write; values pushed through the same rules as the pages
(`indicators.services.enter_value`); an OpenAPI 3.1 description at `/api/v1/openapi.json`."""
