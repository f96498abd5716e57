"""Every application column as it is, plus five ratios the public Home Credit kernels
found worth most: credit over annuity (the loan's length), credit and annuity over
income, employment over age, and the mean of the external scores."""

import ibis
import ibis.expr.types as ir


def features(applications: ir.Table) -> ir.Table:
    """One row per valid application: every column and the five ratios."""
    a = applications
    scores = [a.EXT_SOURCE_1, a.EXT_SOURCE_2, a.EXT_SOURCE_3]
    present = sum(s.notnull().cast("float64") for s in scores)
    total = sum(s.fill_null(0) for s in scores)
    return a.mutate(
        CREDIT_ANNUITY_RATIO=a.AMT_CREDIT / a.AMT_ANNUITY.nullif(0),
        CREDIT_INCOME_RATIO=a.AMT_CREDIT / a.AMT_INCOME_TOTAL.nullif(0),
        ANNUITY_INCOME_RATIO=a.AMT_ANNUITY / a.AMT_INCOME_TOTAL.nullif(0),
        EMPLOYED_AGE_RATIO=a.DAYS_EMPLOYED / a.DAYS_BIRTH.nullif(0),
        EXT_SOURCES_MEAN=ibis.ifelse(present > 0, total / present.nullif(0), ibis.null("float64")),
    )
