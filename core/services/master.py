"""What every master-data service (users, depots, products, customers) shares beyond the
changed fields (changes.py): who may change master data at all. Deleting and
recovering a row: recovery.py.

The role groups' permissions (the migrations' PERMISSIONS, core.roles.grant) give adding,
changing and deleting users, depots, products and customers to head office only:
managers and sales representatives may view them. The services hold to the same rule,
whichever interface calls them.
"""

from django.core.exceptions import PermissionDenied

from core.models import Role, User


def head_office_check(*, actor: User, what: str) -> None:
    """Refuse (PermissionDenied) an actor who is not active head office (role ADMIN, or
    a superuser). `what` names the data in the message ("Depots")."""
    if not actor.is_active:
        raise PermissionDenied(f"{actor.username} is not an active user.")
    if not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied(f"{what} are changed by head office only.")


def superuser_check(*, actor: User, account: User, data_superuser: object = None) -> None:
    """Only a superuser changes a superuser's account, or makes or unmakes one
    (`data_superuser`: the is_superuser asked for, None when not asked)."""
    if actor.is_superuser:
        return
    if account.is_superuser:
        raise PermissionDenied("Only a superuser may change a superuser's account.")
    if data_superuser is not None and bool(data_superuser) != account.is_superuser:
        raise PermissionDenied("Only a superuser may make someone a superuser.")
