"""The five credit-risk features, each as of its loan's date (see docs/features.md)."""

import ibis.expr.types as ir

from tabship.features.pit import history, whole_years


def features(loans: ir.Table) -> ir.Table:
    """One row per valid loan: keys, event time, the five features and the label."""
    earlier = history(loans, entity="id", event_time="loan_date")
    return loans.select(
        "loan_id",
        "id",
        "loan_date",
        nb_previous_loans=earlier.count(),
        avg_amount_loans_previous=earlier.mean(loans.loan_amount),
        age=whole_years(loans.birthday, loans.loan_date),
        years_on_the_job=whole_years(loans.job_start_date, loans.loan_date),
        flag_own_car=(loans.flag_own_car == "Y").cast("int8"),
        status=loans.status,
    )
