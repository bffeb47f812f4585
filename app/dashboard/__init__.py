"""The contract's dashboard (tableau de bord) and the portfolio of a person's contracts."""
