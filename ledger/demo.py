"""Demo books: a few months of realistic vouchers for the enterprise, the foundation and the trust fund."""

from core.demo import DemoContext, demo_step


@demo_step(20)
def ledger_books(ctx: DemoContext) -> None:
    from . import services as svc

    for org in (ctx.enterprise, ctx.foundation, ctx.trust):
        svc.create_book(org)
