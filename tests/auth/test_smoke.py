def test_login_page_and_login(client, make_user, login):
    assert client.get("/login").status_code == 200
    user = make_user("officer")
    login(user)
    page = client.get("/")
    assert page.status_code == 200
    assert user.name in page.get_data(as_text=True)
