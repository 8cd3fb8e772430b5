"""Login and logout pages: sign-in opens a server-side session, logout ends it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from netfleet.web import auth
from netfleet.web.context import dashboard
from netfleet.web.render import page

router = APIRouter()


def _login_page(request: Request, next_url: str, message: str = "", status: int = 200) -> Response:
    board = dashboard(request)
    nonce = auth.new_login_nonce()
    response = page(
        request,
        "login.html",
        {"nonce": nonce, "next_url": next_url, "message": message},
        user=None,
        status=status,
    )
    auth.set_login_nonce(response, board, nonce, auth.is_https(request))
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    board = dashboard(request)
    next_url = auth.safe_next(board, request.query_params.get("next"))
    if await auth.current_user(request) is not None:
        return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url)


@router.post("/login")
async def login(request: Request) -> Response:
    board = dashboard(request)
    form = await request.form()
    token = form.get("token")
    nonce = form.get("nonce")
    next_url = auth.safe_next(board, form.get("next"))
    if not isinstance(token, str) or not isinstance(nonce, str):
        return _login_page(request, next_url, "paste an API token (nf_...)", status=400)
    user, message = await auth.sign_in(request, token, nonce)
    if user is None:
        return _login_page(request, next_url, message, status=401)
    response = RedirectResponse(next_url, status_code=303)
    await auth.open_session(request, response, user)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    board = dashboard(request)
    form = await request.form()
    user = await auth.current_user(request)
    if user is not None:
        auth.check_post(request, form, user, "viewer")
    await auth.end_session(request)
    response = RedirectResponse(board.url("/login"), status_code=303)
    auth.clear_session(response, board, auth.is_https(request))
    return response
