"""gazu.person end to end (proven on the oracle first: GAZU_TARGET=oracle)."""

from __future__ import annotations

from .gazu_target import gazu_host, gz, tag  # noqa: F401  (fixtures)

#: a fresh Zou's departments after its init-data, with their colours
DEFAULT_DEPARTMENTS = {"Modeling": "#78909C", "Animation": "#009688", "FX": "#26C6DA",
                       "Compositing": "#F06292", "Concept": "#8D6E63", "Layout": "#7CB342"}


def test_gazu_departments(gz, tag) -> None:  # type: ignore[no-untyped-def]
    listed = {d["name"]: d["color"] for d in gz.person.all_departments()}
    assert {n: listed.get(n) for n in DEFAULT_DEPARTMENTS} == DEFAULT_DEPARTMENTS
    animation = gz.person.get_department_by_name("Animation")
    assert (animation["type"], animation["archived"]) == ("Department", False)
    assert gz.person.get_department(animation["id"])["name"] == "Animation"
    made = gz.person.new_department(f"Dep {tag}", color="#123456")
    assert (made["name"], made["color"]) == (f"Dep {tag}", "#123456")
    made["color"] = "#654321"
    assert gz.person.update_department(made)["color"] == "#654321"
    gz.person.remove_department(made)
    assert gz.person.get_department_by_name(f"Dep {tag}") is None


def test_gazu_persons(gz, tag) -> None:  # type: ignore[no-untyped-def]
    animation = gz.person.get_department_by_name("Animation")
    ann = gz.person.new_person("Ann", f"Artist {tag}", f"ann-{tag}@example.com", phone="0102", role="user",
                               desktop_login=f"ann{tag}", departments=[animation])
    assert (ann["full_name"], ann["phone"], ann["desktop_login"], ann["role"], ann["type"]) == (
        f"Ann Artist {tag}", "0102", f"ann{tag}", "user", "Person")
    assert (ann["active"], ann["last_presence"], ann["contract_type"], ann["position"]) == (
        True, None, "open-ended", "artist")
    assert ann["departments"] == [animation["id"]] and "password" not in ann
    assert gz.person.get_person(ann["id"])["email"] == f"ann-{tag}@example.com"
    assert gz.person.get_person_by_email(f"ann-{tag}@example.com")["id"] == ann["id"]
    assert gz.person.get_person_by_desktop_login(f"ann{tag}")["id"] == ann["id"]
    assert gz.person.get_person_by_full_name(f"Ann Artist {tag}")["id"] == ann["id"]
    assert gz.person.get_person_by_full_name("", first_name="Ann", last_name=f"Artist {tag}")["id"] == ann["id"]
    listed = [p for p in gz.person.all_persons() if p["id"] == ann["id"]]
    assert len(listed) == 1 and "departments" not in listed[0]  # admins' lists, without relations
    ann["phone"] = "0203"
    assert gz.person.update_person(ann)["phone"] == "0203"
    assert gz.person.change_password_for_person(ann, "another password 123") == {"success": True}

    organisation = gz.person.get_organisation()
    assert (organisation["type"], organisation["hours_by_day"]) == ("Organisation", 8.0)

    bot = gz.person.new_bot(f"Bot {tag}", f"bot-{tag}@example.com")
    assert bot["is_bot"] is True and bot["access_token"]
    gz.person.remove_bot(bot)
    assert gz.person.remove_person(ann) == ""
    assert gz.person.get_person(ann["id"]) is None
